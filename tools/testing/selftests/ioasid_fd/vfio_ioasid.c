// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO with /dev/ioasid on real (emulated) hardware: QEMU's edu devices
 * behind an emulated VT-d. The edu device does real DMA through the I/O
 * page table, so these tests check data, not just return codes, and a
 * DMA that should not reach memory must leave memory unchanged and make
 * the IOMMU log a fault.
 *
 * The machine (see rig.c and edu_utils.h): edus[0] and edus[1] alone on
 * the root bus, edus[2] and edus[3] behind a PCIe-to-PCI bridge, in one
 * IOMMU group. Every test needs an IOMMU that isolates MSIs (the default
 * and amd profiles of scripts/vm.sh): what VFIO does on a machine without
 * one is in vfio_unsafe.c.
 *
 * That a DMA is refused is checked twice, apart: memory stays unchanged,
 * on every IOMMU; the IOMMU raises its fault interrupt, where it reports
 * faults (VT-d, SMMUv3; QEMU's AMD-Vi does not, see
 * iommu_fault_irqs_unreported()).
 * Before the refused DMA, the same DMA to the same IOVA goes through, so
 * that the emulated IOMMU has the translation cached: a refusal shows
 * the invalidation reached its IOTLB.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "ioasid_fd_utils.h"
#include "edu_utils.h"

#define PAGE 4096UL
#define BUF_SIZE (64 * 1024UL)
#define IOVA_A (1024 * 1024UL)
#define IOVA_B (2 * 1024 * 1024UL)
#define LABEL(i) (0xed0000ULL + (i))
/* Both backends refuse a group whose MSIs are not isolated */
#define NEEDS "needs an IOMMU that isolates MSIs (the default or amd profile)"

static void fill(void *p, size_t len, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i != len; i++)
		c[i] = (unsigned char)(seed + i * 7);
}

static bool all_bytes(const void *p, size_t len, unsigned char val)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i != len; i++)
		if (c[i] != val)
			return false;
	return true;
}

/*
 * DMA through each backend, on the edu alone on the root bus. The same
 * tests run on VFIO type1 to show that they tell a working mapping from
 * a broken one whatever the backend.
 */
FIXTURE(edu_dma)
{
	struct edu edus[4];
	struct edu_ctx c;
	int64_t pins;
	char *a, *b;
};

FIXTURE_VARIANT(edu_dma)
{
	enum backend backend;
};

FIXTURE_VARIANT_ADD(edu_dma, ioasid)
{
	.backend = BACKEND_IOASID,
};

FIXTURE_VARIANT_ADD(edu_dma, type1)
{
	.backend = BACKEND_TYPE1,
};

FIXTURE_SETUP(edu_dma)
{
	edu_ctx_init(&self->c, variant->backend);
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[0].bdf, "vfio-pci"));
	self->pins = foll_pins();
	self->a = edu_buf_alloc(BUF_SIZE);
	self->b = edu_buf_alloc(BUF_SIZE);
	ASSERT_NE(NULL, self->a);
	ASSERT_NE(NULL, self->b);
	ASSERT_EQ(0, edu_open(&self->c, variant->backend, self->edus[0].bdf,
			      LABEL(0)));
	ASSERT_EQ(0, edu_map(&self->c, self->a, BUF_SIZE, IOVA_A));
}

FIXTURE_TEARDOWN(edu_dma)
{
	edu_close(&self->c);
	if (self->a)
		EXPECT_EQ(self->pins, foll_pins());
}

TEST_F(edu_dma, dma_copies_data_through_the_mapping)
{
	fill(self->a, 2048, 1);
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A, 0, 2048, false));
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A + 8 * PAGE, 0, 2048, true));
	EXPECT_EQ(0, memcmp(self->a, self->a + 8 * PAGE, 2048));
}

TEST_F(edu_dma, dma_lands_in_the_buffer_mapped_at_the_iova)
{
	fill(self->b, 1024, 3);
	ASSERT_EQ(0, edu_map(&self->c, self->b, BUF_SIZE, IOVA_B));
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_B, 0, 1024, false));

	/* IOVA_A now means b: the data must land there, and not in a */
	ASSERT_EQ(0, edu_unmap(&self->c, IOVA_A, BUF_SIZE));
	ASSERT_EQ(0, edu_unmap(&self->c, IOVA_B, BUF_SIZE));
	ASSERT_EQ(0, edu_map(&self->c, self->b, BUF_SIZE, IOVA_A));
	memset(self->a, 0x22, BUF_SIZE);
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A + 4 * PAGE, 0, 1024, true));
	EXPECT_EQ(0, memcmp(self->b + 4 * PAGE, self->b, 1024));
	EXPECT_TRUE(all_bytes(self->a, BUF_SIZE, 0x22));
}

/*
 * The device writes a page of the mapping (which lands, and leaves the
 * translation in the IOMMU's IOTLB), the page is unmapped, the device
 * writes it again. With @fault, the IOMMU must also raise its fault
 * interrupt.
 */
static void dma_after_unmap(struct __test_metadata *_metadata,
			    struct edu_ctx *c, char *a, bool fault)
{
	int64_t faults = 0;

	fill(a, 1024, 5);
	ASSERT_EQ(0, edu_dma(c, IOVA_A, 0, 1024, false));
	ASSERT_EQ(0, edu_dma(c, IOVA_A + PAGE, 0, 1024, true));
	ASSERT_EQ(0, memcmp(a + PAGE, a, 1024));
	memset(a + PAGE, 0x33, 1024);
	ASSERT_EQ(0, edu_unmap(c, IOVA_A, BUF_SIZE));

	if (fault) {
		faults = dmar_fault_irqs();
		ASSERT_LE(0, faults);
	}
	/* The device still runs the transfer; the IOMMU stops it */
	ASSERT_EQ(0, edu_dma(c, IOVA_A + PAGE, 0, 1024, true));
	EXPECT_TRUE(all_bytes(a + PAGE, 1024, 0x33));
	if (fault)
		EXPECT_TRUE(dmar_fault_seen(faults));
}

TEST_F(edu_dma, dma_after_unmap_does_not_reach_memory)
{
	dma_after_unmap(_metadata, &self->c, self->a, false);
}

TEST_F(edu_dma, dma_after_unmap_makes_the_iommu_fault)
{
	SKIP_IF_REASON(iommu_fault_irqs_unreported(), return);
	dma_after_unmap(_metadata, &self->c, self->a, true);
}

/*
 * The ioasid-only behaviour, on the root-bus edu: the group is opened,
 * an ioasid fd too, and nothing is bound yet.
 */
FIXTURE(edu_ioasid)
{
	struct edu edus[4];
	struct edu_ctx c;
	int64_t pins;
	char *a, *b;
};

FIXTURE_SETUP(edu_ioasid)
{
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };

	edu_ctx_init(&self->c, BACKEND_IOASID);
	self->a = NULL;
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[0].bdf, "vfio-pci"));
	self->pins = foll_pins();
	self->a = edu_buf_alloc(BUF_SIZE);
	self->b = edu_buf_alloc(BUF_SIZE);
	ASSERT_NE(NULL, self->a);
	ASSERT_NE(NULL, self->b);
	self->c.group_fd = open_vfio_group(self->edus[0].bdf);
	ASSERT_LE(0, self->c.group_fd);
	self->c.ioasid_fd = open(IOASID_DEV, O_RDWR);
	ASSERT_LE(0, self->c.ioasid_fd);
	ASSERT_EQ(0, ioctl(self->c.ioasid_fd, IOASID_ALLOC, &alloc));
	self->c.ioasid = alloc.out_ioasid;
}

FIXTURE_TEARDOWN(edu_ioasid)
{
	edu_close(&self->c);
	if (self->a)
		EXPECT_EQ(self->pins, foll_pins());
}

/* Bind, open the device, attach it: what most tests start with */
static int bind_open_attach(struct edu_ctx *c, const char *bdf)
{
	if (edu_bind_ioasid(c->group_fd, c->ioasid_fd, NULL, 0) ||
	    edu_open_device(c, bdf))
		return -1;
	return edu_attach(c->dev_fd, c->ioasid, LABEL(0), NULL);
}

TEST_F(edu_ioasid, device_fd_needs_a_bound_group)
{
	EXPECT_ERRNO(EINVAL, ioctl(self->c.group_fd, VFIO_GROUP_GET_DEVICE_FD,
				   self->edus[0].bdf));
	ASSERT_EQ(0, edu_bind_ioasid(self->c.group_fd, self->c.ioasid_fd,
				     NULL, 0));
	ASSERT_EQ(0, edu_open_device(&self->c, self->edus[0].bdf));
}

TEST_F(edu_ioasid, bind_refuses_what_is_not_an_open_ioasid_fd)
{
	int null = open("/dev/null", O_RDWR);

	ASSERT_LE(0, null);
	EXPECT_ERRNO(EBADFD, edu_bind_ioasid(self->c.group_fd, null, NULL, 0));
	EXPECT_ERRNO(EBADF, edu_bind_ioasid(self->c.group_fd, 1000, NULL, 0));
	EXPECT_ERRNO(EBADF, edu_bind_ioasid(self->c.group_fd, -1, NULL, 0));
	close(null);
	/* Nothing changed: it still binds */
	ASSERT_EQ(0, edu_bind_ioasid(self->c.group_fd, self->c.ioasid_fd,
				     NULL, 0));
}

TEST_F(edu_ioasid, bind_twice_is_ebusy)
{
	int other = open(IOASID_DEV, O_RDWR);

	ASSERT_LE(0, other);
	ASSERT_EQ(0, edu_bind_ioasid(self->c.group_fd, self->c.ioasid_fd,
				     NULL, 0));
	EXPECT_ERRNO(EBUSY, edu_bind_ioasid(self->c.group_fd,
					    self->c.ioasid_fd, NULL, 0));
	EXPECT_ERRNO(EBUSY, edu_bind_ioasid(self->c.group_fd, other, NULL, 0));
	close(other);
}

TEST_F(edu_ioasid, containers_and_ioasid_fds_exclude_each_other)
{
	int container = open("/dev/vfio/vfio", O_RDWR);

	ASSERT_LE(0, container);
	ASSERT_EQ(0, ioctl(self->c.group_fd, VFIO_GROUP_SET_CONTAINER,
			   &container));
	EXPECT_ERRNO(EBUSY, edu_bind_ioasid(self->c.group_fd,
					    self->c.ioasid_fd, NULL, 0));
	ASSERT_EQ(0, ioctl(self->c.group_fd, VFIO_GROUP_UNSET_CONTAINER));

	ASSERT_EQ(0, edu_bind_ioasid(self->c.group_fd, self->c.ioasid_fd,
				     NULL, 0));
	EXPECT_ERRNO(EINVAL, ioctl(self->c.group_fd, VFIO_GROUP_SET_CONTAINER,
				   &container));
	/* UNSET_CONTAINER does not unbind an ioasid fd */
	EXPECT_ERRNO(EINVAL, ioctl(self->c.group_fd, VFIO_GROUP_UNSET_CONTAINER));
	close(container);
}

TEST_F(edu_ioasid, unbind_waits_for_the_device_fds)
{
	struct vfio_group_unbind_ioasid_fd unbind = { .argsz = sizeof(unbind) };

	EXPECT_ERRNO(EINVAL, ioctl(self->c.group_fd, VFIO_GROUP_UNBIND_IOASID_FD,
				   &unbind));
	ASSERT_EQ(0, bind_open_attach(&self->c, self->edus[0].bdf));
	EXPECT_ERRNO(EBUSY, ioctl(self->c.group_fd, VFIO_GROUP_UNBIND_IOASID_FD,
				  &unbind));
	close_fd(&self->c.dev_fd);
	ASSERT_EQ(0, ioctl(self->c.group_fd, VFIO_GROUP_UNBIND_IOASID_FD,
			   &unbind));
	/* The group is free again: a container can have it */
	self->c.container_fd = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->c.container_fd);
	ASSERT_EQ(0, ioctl(self->c.group_fd, VFIO_GROUP_SET_CONTAINER,
			   &self->c.container_fd));
}

TEST_F(edu_ioasid, attach_and_detach_errors)
{
	ASSERT_EQ(0, edu_bind_ioasid(self->c.group_fd, self->c.ioasid_fd,
				     NULL, 0));
	ASSERT_EQ(0, edu_open_device(&self->c, self->edus[0].bdf));
	EXPECT_ERRNO(ENOENT, edu_detach(self->c.dev_fd));
	EXPECT_ERRNO(ENOENT, edu_attach(self->c.dev_fd, self->c.ioasid + 1,
					LABEL(0), NULL));
	EXPECT_ERRNO(ENOENT, edu_attach(self->c.dev_fd, 0, LABEL(0), NULL));
	ASSERT_EQ(0, edu_attach(self->c.dev_fd, self->c.ioasid, LABEL(0),
				NULL));
	ASSERT_EQ(0, edu_detach(self->c.dev_fd));
	EXPECT_ERRNO(ENOENT, edu_detach(self->c.dev_fd));
}

TEST_F(edu_ioasid, vfio_ioctls_follow_the_size_rules)
{
	struct {
		struct vfio_device_attach_ioasid cmd;
		uint8_t tail;
	} attach;
	struct {
		struct vfio_group_bind_ioasid_fd cmd;
		uint8_t tail;
	} bind;
	struct vfio_device_detach_ioasid detach = { .argsz = sizeof(detach) };
	struct vfio_group_unbind_ioasid_fd unbind = { .argsz = sizeof(unbind) };

	memset(&bind, 0, sizeof(bind));
	bind.cmd.ioasid_fd = self->c.ioasid_fd;
	bind.cmd.argsz = sizeof(bind.cmd) - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->c.group_fd, VFIO_GROUP_BIND_IOASID_FD,
				   &bind));
	bind.cmd.argsz = sizeof(bind);
	bind.tail = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->c.group_fd, VFIO_GROUP_BIND_IOASID_FD,
				  &bind));
	bind.tail = 0;
	bind.cmd.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->c.group_fd,
				       VFIO_GROUP_BIND_IOASID_FD, &bind));
	bind.cmd.flags = 0;
	bind.cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->c.group_fd,
				       VFIO_GROUP_BIND_IOASID_FD, &bind));
	bind.cmd.__reserved = 0;
	/* A longer structure with a zero tail is the same as the exact one */
	ASSERT_EQ(0, ioctl(self->c.group_fd, VFIO_GROUP_BIND_IOASID_FD, &bind));

	unbind.argsz = 4;
	EXPECT_ERRNO(EINVAL, ioctl(self->c.group_fd,
				   VFIO_GROUP_UNBIND_IOASID_FD, &unbind));
	unbind.argsz = sizeof(unbind);
	unbind.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->c.group_fd,
				       VFIO_GROUP_UNBIND_IOASID_FD, &unbind));

	ASSERT_EQ(0, edu_open_device(&self->c, self->edus[0].bdf));
	memset(&attach, 0, sizeof(attach));
	attach.cmd.ioasid = self->c.ioasid;
	/* Label 0 means "none" in events: ATTACH refuses it */
	attach.cmd.label = LABEL(0);
	attach.cmd.argsz = offsetof(struct vfio_device_attach_ioasid, label);
	EXPECT_ERRNO(EINVAL, ioctl(self->c.dev_fd, VFIO_DEVICE_ATTACH_IOASID,
				   &attach));
	attach.cmd.argsz = sizeof(attach);
	attach.tail = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->c.dev_fd, VFIO_DEVICE_ATTACH_IOASID,
				  &attach));
	attach.tail = 0;
	attach.cmd.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->c.dev_fd,
				       VFIO_DEVICE_ATTACH_IOASID, &attach));
	attach.cmd.flags = 0;
	attach.cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->c.dev_fd,
				       VFIO_DEVICE_ATTACH_IOASID, &attach));
	attach.cmd.__reserved = 0;
	ASSERT_EQ(0, ioctl(self->c.dev_fd, VFIO_DEVICE_ATTACH_IOASID, &attach));

	detach.argsz = 4;
	EXPECT_ERRNO(EINVAL, ioctl(self->c.dev_fd, VFIO_DEVICE_DETACH_IOASID,
				   &detach));
	detach.argsz = sizeof(detach);
	detach.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->c.dev_fd,
				       VFIO_DEVICE_DETACH_IOASID, &detach));
	detach.flags = 0;
	ASSERT_EQ(0, ioctl(self->c.dev_fd, VFIO_DEVICE_DETACH_IOASID, &detach));
}

TEST_F(edu_ioasid, attach_to_another_ioasid_moves_dma_to_its_table)
{
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };

	ASSERT_EQ(0, bind_open_attach(&self->c, self->edus[0].bdf));
	ASSERT_EQ(0, ioctl(self->c.ioasid_fd, IOASID_ALLOC, &alloc));
	/* The same IOVA means a in the first IOASID, b in the second */
	ASSERT_EQ(0, ioasid_map(self->c.ioasid_fd, self->c.ioasid, self->a,
				BUF_SIZE, IOVA_A));
	ASSERT_EQ(0, ioasid_map(self->c.ioasid_fd, alloc.out_ioasid, self->b,
				BUF_SIZE, IOVA_A));

	fill(self->a, 1024, 7);
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A, 0, 1024, false));
	ASSERT_EQ(0, edu_attach(self->c.dev_fd, alloc.out_ioasid, LABEL(0),
				NULL));
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A + 2 * PAGE, 0, 1024, true));
	EXPECT_EQ(0, memcmp(self->b + 2 * PAGE, self->a, 1024));
	EXPECT_TRUE(all_bytes(self->a + 2 * PAGE, 1024, 0));

	/* And back */
	fill(self->b, 1024, 9);
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A, 0, 1024, false));
	ASSERT_EQ(0, edu_attach(self->c.dev_fd, self->c.ioasid, LABEL(0),
				NULL));
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A + 3 * PAGE, 0, 1024, true));
	EXPECT_EQ(0, memcmp(self->a + 3 * PAGE, self->b, 1024));
}

/*
 * 1024 separate 4K mappings made and removed by IOASID_BATCH, with the
 * device checking what lands where: the batch's one sync and one flush
 * are enough for real VT-d.
 */
#define BATCH_PAGES 1024UL
#define BATCH_IOVA(i) (0x1000000UL + 2 * (i) * PAGE)

static int edu_batch(int fd, uint32_t ioasid, char *big, bool map)
{
	struct ioasid_batch_op *ops;
	struct ioasid_batch cmd = {
		.size = sizeof(cmd),
		.num_ops = BATCH_PAGES,
		.op_size = sizeof(*ops),
	};
	unsigned long i;
	int rc;

	ops = calloc(BATCH_PAGES, sizeof(*ops));
	if (!ops)
		return -1;
	for (i = 0; i != BATCH_PAGES; i++) {
		ops[i].op = map ? IOASID_BATCH_MAP : IOASID_BATCH_UNMAP;
		ops[i].flags = map ? IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ |
				     IOASID_MAP_WRITE : 0;
		ops[i].ioasid = ioasid;
		ops[i].user_va = map ? (uintptr_t)(big + i * PAGE) : 0;
		ops[i].length = PAGE;
		ops[i].iova = BATCH_IOVA(i);
	}
	cmd.ops = (uintptr_t)ops;
	rc = ioctl(fd, IOASID_BATCH, &cmd);
	if (!rc && cmd.out_done != BATCH_PAGES)
		rc = -1;
	free(ops);
	return rc;
}

/*
 * The batch maps, the device checks the samples, the batch unmaps, and
 * the device writes a page it wrote before: memory stays unchanged and,
 * with @fault, the IOMMU raises its fault interrupt.
 */
static void batch_map_dma_unmap(struct __test_metadata *_metadata,
				struct edu_ctx *c, const char *bdf, bool fault)
{
	static const unsigned long sample[] = { 0, 1, 2, 511, 1000, 1023 };
	char *big;
	unsigned long i;
	int64_t faults = 0;

	big = mmap(NULL, BATCH_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	for (i = 0; i != BATCH_PAGES; i++)
		memset(big + i * PAGE, i % 251, PAGE);
	ASSERT_EQ(0, bind_open_attach(c, bdf));
	ASSERT_EQ(0, edu_batch(c->ioasid_fd, c->ioasid, big, true));

	/* Each sampled page, read by the device, lands in the next one */
	for (i = 0; i != ARRAY_SIZE(sample); i++) {
		unsigned long src = sample[i], dst = (src + 1) % BATCH_PAGES;

		ASSERT_EQ(0, edu_dma(c, BATCH_IOVA(src), 0, 1024, false));
		ASSERT_EQ(0, edu_dma(c, BATCH_IOVA(dst), 0, 1024, true));
		EXPECT_TRUE(all_bytes(big + dst * PAGE, 1024, src % 251));
		memset(big + dst * PAGE, dst % 251, 1024);
	}

	ASSERT_EQ(0, edu_batch(c->ioasid_fd, c->ioasid, big, false));
	if (fault) {
		faults = dmar_fault_irqs();
		ASSERT_LE(0, faults);
	}
	/* Page 3 was written by the device above */
	memset(big + 3 * PAGE, 0x66, 1024);
	ASSERT_EQ(0, edu_dma(c, BATCH_IOVA(3), 0, 1024, true));
	EXPECT_TRUE(all_bytes(big + 3 * PAGE, 1024, 0x66));
	if (fault)
		EXPECT_TRUE(dmar_fault_seen(faults));
	munmap(big, BATCH_PAGES * PAGE);
}

TEST_F(edu_ioasid, a_batch_maps_and_unmaps_1024_ranges_the_device_sees)
{
	batch_map_dma_unmap(_metadata, &self->c, self->edus[0].bdf, false);
}

TEST_F(edu_ioasid, dma_after_a_batch_unmap_makes_the_iommu_fault)
{
	SKIP_IF_REASON(iommu_fault_irqs_unreported(), return);
	batch_map_dma_unmap(_metadata, &self->c, self->edus[0].bdf, true);
}

/* As dma_after_unmap(), with a detach instead of the unmap */
static void dma_after_detach(struct __test_metadata *_metadata,
			     struct edu_ctx *c, const char *bdf, char *a,
			     bool fault)
{
	int64_t faults = 0;

	ASSERT_EQ(0, bind_open_attach(c, bdf));
	ASSERT_EQ(0, ioasid_map(c->ioasid_fd, c->ioasid, a, BUF_SIZE, IOVA_A));
	fill(a, 1024, 11);
	ASSERT_EQ(0, edu_dma(c, IOVA_A, 0, 1024, false));
	ASSERT_EQ(0, edu_dma(c, IOVA_A + PAGE, 0, 1024, true));
	ASSERT_EQ(0, memcmp(a + PAGE, a, 1024));
	memset(a + PAGE, 0x44, 1024);
	ASSERT_EQ(0, edu_detach(c->dev_fd));

	if (fault) {
		faults = dmar_fault_irqs();
		ASSERT_LE(0, faults);
	}
	ASSERT_EQ(0, edu_dma(c, IOVA_A + PAGE, 0, 1024, true));
	EXPECT_TRUE(all_bytes(a + PAGE, 1024, 0x44));
	if (fault)
		EXPECT_TRUE(dmar_fault_seen(faults));
}

TEST_F(edu_ioasid, detach_blocks_dma)
{
	dma_after_detach(_metadata, &self->c, self->edus[0].bdf, self->a,
			 false);
}

TEST_F(edu_ioasid, dma_after_detach_makes_the_iommu_fault)
{
	SKIP_IF_REASON(iommu_fault_irqs_unreported(), return);
	dma_after_detach(_metadata, &self->c, self->edus[0].bdf, self->a,
			 true);
}

TEST_F(edu_ioasid, map_of_a_device_bar_is_refused)
{
	uint64_t off, size;
	void *bar;

	ASSERT_EQ(0, bind_open_attach(&self->c, self->edus[0].bdf));
	ASSERT_EQ(0, region_offset(self->c.dev_fd, VFIO_PCI_BAR0_REGION_INDEX,
				   &off, &size));
	bar = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->c.dev_fd, off);
	ASSERT_NE(MAP_FAILED, bar);
	/* MMIO has no lifetime a pin could hold: never mapped */
	EXPECT_ERRNO(EFAULT, ioasid_map(self->c.ioasid_fd, self->c.ioasid, bar,
					PAGE, IOVA_A));
	munmap(bar, PAGE);
}

/* Receive one fd over a unix socket */
static int recv_fd(int sock)
{
	char data, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	return fd;
}

static int send_fd(int sock, int fd)
{
	char data = 'f', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/*
 * A manager process opens /dev/ioasid and hands the fd to the VMM (us)
 * over a unix socket, then goes away: the fd keeps working here.
 */
TEST_F(edu_ioasid, ioasid_fd_received_over_a_unix_socket_works)
{
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	int sv[2], status, fd;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int mine = open(IOASID_DEV, O_RDWR);

		close(sv[0]);
		_exit(mine < 0 || send_fd(sv[1], mine));
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	close(sv[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_LE(0, fd);

	close(self->c.ioasid_fd);
	self->c.ioasid_fd = fd;
	ASSERT_EQ(0, ioctl(fd, IOASID_ALLOC, &alloc));
	self->c.ioasid = alloc.out_ioasid;
	ASSERT_EQ(0, bind_open_attach(&self->c, self->edus[0].bdf));
	ASSERT_EQ(0, ioasid_map(fd, self->c.ioasid, self->a, BUF_SIZE, IOVA_A));
	fill(self->a, 1024, 13);
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A, 0, 1024, false));
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A + PAGE, 0, 1024, true));
	EXPECT_EQ(0, memcmp(self->a + PAGE, self->a, 1024));
}

TEST_F(edu_ioasid, labels_are_unique_in_the_ioasid_fd)
{
	struct edu_ctx other;

	ASSERT_EQ(0, bind_driver(self->edus[1].bdf, "vfio-pci"));
	ASSERT_EQ(0, bind_driver(self->edus[2].bdf, "vfio-pci"));
	ASSERT_EQ(0, bind_open_attach(&self->c, self->edus[0].bdf));

	/* A device of another group, bound to the same ioasid fd */
	edu_ctx_init(&other, BACKEND_IOASID);
	other.ioasid_fd = self->c.ioasid_fd;
	other.ioasid = self->c.ioasid;
	other.group_fd = open_vfio_group(self->edus[1].bdf);
	ASSERT_LE(0, other.group_fd);
	ASSERT_EQ(0, edu_bind_ioasid(other.group_fd, other.ioasid_fd, NULL, 0));
	ASSERT_EQ(0, edu_open_device(&other, self->edus[1].bdf));
	EXPECT_ERRNO(EEXIST, edu_attach(other.dev_fd, other.ioasid, LABEL(0),
					NULL));
	ASSERT_EQ(0, edu_attach(other.dev_fd, other.ioasid, LABEL(1), NULL));
	close(other.dev_fd);
	close(other.group_fd);
}

/*
 * Two IOMMU drivers in one IOASID: an edu behind VT-d (or AMD-Vi) and a
 * mock device behind the selftest mock. Each needs a domain of its own
 * driver, and moving the mock device between IOASIDs must never offer it
 * the real IOMMU's domain (replace, unlike attach, leaves that check to
 * the caller).
 */
TEST_F(edu_ioasid, devices_of_two_iommu_drivers_get_their_own_domains)
{
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	uint32_t mock;

	ASSERT_EQ(0, bind_open_attach(&self->c, self->edus[0].bdf));
	ASSERT_EQ(0, ioctl(self->c.ioasid_fd, IOASID_ALLOC, &alloc));
	if (_test_mock_device(self->c.ioasid_fd, IOASID_MOCK_IOMMU_A, &mock))
		SKIP(return, "no selftest mock in this kernel");
	ASSERT_EQ(0, _test_attach(self->c.ioasid_fd, mock, alloc.out_ioasid,
				  LABEL(7)));
	ASSERT_EQ(0, _test_attach(self->c.ioasid_fd, mock, self->c.ioasid,
				  LABEL(7)));
	EXPECT_EQ(2, _test_domains(self->c.ioasid_fd, self->c.ioasid));

	/* Both still DMA through the IOASID's mappings */
	ASSERT_EQ(0, ioasid_map(self->c.ioasid_fd, self->c.ioasid, self->a,
				BUF_SIZE, IOVA_A));
	fill(self->a, 512, 29);
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A, 0, 512, false));
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A + PAGE, 0, 512, true));
	EXPECT_EQ(0, memcmp(self->a + PAGE, self->a, 512));
	ASSERT_EQ(0, _test_dma(self->c.ioasid_fd, mock, IOVA_A + PAGE,
			       self->b, 512, false));
	EXPECT_EQ(0, memcmp(self->b, self->a, 512));
}

/*
 * The device goes away (its driver is unbound) while its group is bound
 * to an ioasid fd: the group lets go of the DMA ownership then, and a
 * later close or unbind of the group has nothing left to do.
 */
TEST_F(edu_ioasid, unbinding_the_driver_releases_a_bound_group)
{
	struct vfio_group_unbind_ioasid_fd unbind = { .argsz = sizeof(unbind) };
	char path[PATH_MAX];

	ASSERT_EQ(0, edu_bind_ioasid(self->c.group_fd, self->c.ioasid_fd,
				     NULL, 0));
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver/unbind",
		 self->edus[0].bdf);
	ASSERT_EQ(0, write_str(path, self->edus[0].bdf));
	EXPECT_ERRNO(EINVAL, ioctl(self->c.group_fd,
				   VFIO_GROUP_UNBIND_IOASID_FD, &unbind));
	close_fd(&self->c.group_fd);

	/* The group is free: vfio-pci binds again, the group can be bound */
	ASSERT_EQ(0, bind_driver(self->edus[0].bdf, "vfio-pci"));
	self->c.group_fd = open_vfio_group(self->edus[0].bdf);
	ASSERT_LE(0, self->c.group_fd);
	ASSERT_EQ(0, bind_open_attach(&self->c, self->edus[0].bdf));
}

/*
 * The two edus behind the bridge: one IOMMU group, so one owner and one
 * IOASID for both.
 */
FIXTURE(edu_group)
{
	struct edu edus[4];
	struct edu_ctx c[2];
	int64_t pins;
	char *a;
};

FIXTURE_SETUP(edu_group)
{
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	int i;

	edu_ctx_init(&self->c[0], BACKEND_IOASID);
	edu_ctx_init(&self->c[1], BACKEND_IOASID);
	self->a = NULL;
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	SKIP_IF_REASON(iommu_bridged_pair_unusable(self->edus), return);
	for (i = 0; i != 2; i++)
		ASSERT_EQ(0, bind_driver(self->edus[EDU_BRIDGED + i].bdf,
					 "vfio-pci"));
	self->pins = foll_pins();
	self->a = edu_buf_alloc(BUF_SIZE);
	ASSERT_NE(NULL, self->a);
	/* One group fd and one ioasid fd, shared by both device contexts */
	self->c[0].group_fd = open_vfio_group(self->edus[EDU_BRIDGED].bdf);
	ASSERT_LE(0, self->c[0].group_fd);
	self->c[0].ioasid_fd = open(IOASID_DEV, O_RDWR);
	ASSERT_LE(0, self->c[0].ioasid_fd);
	ASSERT_EQ(0, ioctl(self->c[0].ioasid_fd, IOASID_ALLOC, &alloc));
	self->c[0].ioasid = alloc.out_ioasid;
	self->c[1] = self->c[0];
}

FIXTURE_TEARDOWN(edu_group)
{
	/* c[1] shares c[0]'s group and ioasid fds */
	close_fd(&self->c[1].dev_fd);
	edu_close(&self->c[0]);
	if (self->a)
		EXPECT_EQ(self->pins, foll_pins());
	if (self->edus[EDU_BRIDGED + 1].bdf[0])
		bind_driver(self->edus[EDU_BRIDGED + 1].bdf, "vfio-pci");
}

TEST_F(edu_group, both_devices_dma_through_one_ioasid)
{
	int i;

	SKIP_IF_REASON(iommu_bridged_dma_untranslated(), return);
	ASSERT_EQ(0, edu_bind_ioasid(self->c[0].group_fd, self->c[0].ioasid_fd,
				     NULL, 0));
	for (i = 0; i != 2; i++) {
		ASSERT_EQ(0, edu_open_device(&self->c[i],
					     self->edus[EDU_BRIDGED + i].bdf));
		ASSERT_EQ(0, edu_attach(self->c[i].dev_fd, self->c[i].ioasid,
					LABEL(i), NULL));
	}
	ASSERT_EQ(0, ioasid_map(self->c[0].ioasid_fd, self->c[0].ioasid,
				self->a, BUF_SIZE, IOVA_A));
	fill(self->a, 1024, 17);
	for (i = 0; i != 2; i++) {
		ASSERT_EQ(0, edu_dma(&self->c[i], IOVA_A, 0, 1024, false));
		ASSERT_EQ(0, edu_dma(&self->c[i], IOVA_A + (i + 1) * PAGE, 0,
				     1024, true));
		EXPECT_EQ(0, memcmp(self->a + (i + 1) * PAGE, self->a, 1024));
	}
}

TEST_F(edu_group, attach_elsewhere_names_the_device_holding_the_group)
{
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_attach_ioasid out;

	ASSERT_EQ(0, edu_bind_ioasid(self->c[0].group_fd, self->c[0].ioasid_fd,
				     NULL, 0));
	ASSERT_EQ(0, edu_open_device(&self->c[0],
				     self->edus[EDU_BRIDGED].bdf));
	ASSERT_EQ(0, edu_open_device(&self->c[1],
				     self->edus[EDU_BRIDGED + 1].bdf));
	ASSERT_EQ(0, edu_attach(self->c[0].dev_fd, self->c[0].ioasid,
				LABEL(1), NULL));
	ASSERT_EQ(0, ioctl(self->c[0].ioasid_fd, IOASID_ALLOC, &alloc));

	EXPECT_ERRNO(EBUSY, edu_attach(self->c[1].dev_fd, alloc.out_ioasid,
				       LABEL(2), &out));
	EXPECT_EQ(LABEL(1), out.out_blocking_label);
	EXPECT_STREQ(self->edus[EDU_BRIDGED].bdf, out.out_blocking_dev);
	/* With the other device detached, the group is free to move */
	ASSERT_EQ(0, edu_detach(self->c[0].dev_fd));
	ASSERT_EQ(0, edu_attach(self->c[1].dev_fd, alloc.out_ioasid, LABEL(2),
				NULL));
}

TEST_F(edu_group, bind_refuses_a_group_a_kernel_driver_uses)
{
	char culprit[64] = "";

	/* uio_pci_generic does not manage its own DMA: a kernel DMA user */
	if (bind_driver(self->edus[EDU_BRIDGED + 1].bdf, "uio_pci_generic"))
		SKIP(return, "uio_pci_generic does not bind to edu");
	EXPECT_ERRNO(EBUSY, edu_bind_ioasid(self->c[0].group_fd,
					    self->c[0].ioasid_fd, culprit,
					    sizeof(culprit)));
	EXPECT_STREQ(self->edus[EDU_BRIDGED + 1].bdf, culprit);

	/* Once the user has the group, the kernel driver cannot come back */
	ASSERT_EQ(0, bind_driver(self->edus[EDU_BRIDGED + 1].bdf, "vfio-pci"));
	ASSERT_EQ(0, edu_bind_ioasid(self->c[0].group_fd, self->c[0].ioasid_fd,
				     NULL, 0));
	EXPECT_NE(0, bind_driver(self->edus[EDU_BRIDGED + 1].bdf,
				 "uio_pci_generic"));
}

/*
 * Every order of closing the three fds, after a DMA: afterwards nothing
 * is pinned, and the group is free and clean enough that a type1
 * container can take it and DMA through it.
 */
FIXTURE(edu_close)
{
	struct edu edus[4];
	struct edu_ctx c;
	int64_t pins;
	char *a;
};

FIXTURE_VARIANT(edu_close)
{
	const char *order;	/* d(evice), g(roup), i(oasid) */
};

FIXTURE_VARIANT_ADD(edu_close, device_group_ioasid) { .order = "dgi" };
FIXTURE_VARIANT_ADD(edu_close, device_ioasid_group) { .order = "dig" };
FIXTURE_VARIANT_ADD(edu_close, group_device_ioasid) { .order = "gdi" };
FIXTURE_VARIANT_ADD(edu_close, group_ioasid_device) { .order = "gid" };
FIXTURE_VARIANT_ADD(edu_close, ioasid_device_group) { .order = "idg" };
FIXTURE_VARIANT_ADD(edu_close, ioasid_group_device) { .order = "igd" };

FIXTURE_SETUP(edu_close)
{
	edu_ctx_init(&self->c, BACKEND_IOASID);
	self->a = NULL;
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[0].bdf, "vfio-pci"));
	self->pins = foll_pins();
	self->a = edu_buf_alloc(BUF_SIZE);
	ASSERT_NE(NULL, self->a);
}

FIXTURE_TEARDOWN(edu_close)
{
	edu_close(&self->c);
}

/* After everything was closed: is the group usable by someone else? */
static int group_is_clean(const char *bdf, char *buf)
{
	struct edu_ctx t;
	int rc;

	rc = edu_open(&t, BACKEND_TYPE1, bdf, 0) ||
	     edu_map(&t, buf, BUF_SIZE, IOVA_A);
	if (!rc) {
		fill(buf, 512, 19);
		rc = edu_dma(&t, IOVA_A, 0, 512, false) ||
		     edu_dma(&t, IOVA_A + PAGE, 0, 512, true) ||
		     memcmp(buf + PAGE, buf, 512);
	}
	edu_close(&t);
	return rc ? -1 : 0;
}

TEST_F(edu_close, any_close_order_releases_everything)
{
	const char *o;

	ASSERT_EQ(0, edu_open(&self->c, BACKEND_IOASID, self->edus[0].bdf,
			      LABEL(0)));
	ASSERT_EQ(0, edu_map(&self->c, self->a, BUF_SIZE, IOVA_A));
	fill(self->a, 512, 23);
	ASSERT_EQ(0, edu_dma(&self->c, IOVA_A, 0, 512, false));
	ASSERT_LT(self->pins, foll_pins());

	for (o = variant->order; *o; o++) {
		int *fd = *o == 'd' ? &self->c.dev_fd :
			  *o == 'g' ? &self->c.group_fd : &self->c.ioasid_fd;

		ASSERT_LE(0, *fd);
		close_fd(fd);
	}
	EXPECT_EQ(self->pins, foll_pins());
	EXPECT_EQ(0, group_is_clean(self->edus[0].bdf, self->a));
}

/*
 * A process killed while its device is doing DMA: the kernel tears
 * everything down (devices quiesced first) and the group is clean. The
 * owner is a child: we only hold the buffer it maps.
 */
FIXTURE(edu_owner)
{
	struct edu edus[4];
	int64_t pins;
	char *a;
};

FIXTURE_SETUP(edu_owner)
{
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[0].bdf, "vfio-pci"));
	self->pins = foll_pins();
	self->a = edu_buf_alloc(BUF_SIZE);
	ASSERT_NE(NULL, self->a);
}

FIXTURE_TEARDOWN(edu_owner)
{
}

TEST_F(edu_owner, killing_the_owner_during_dma_releases_everything)
{
	int pipefd[2], status;
	char ready;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct edu_ctx c;

		close(pipefd[0]);
		if (edu_open(&c, BACKEND_IOASID, self->edus[0].bdf, LABEL(0)) ||
		    edu_map(&c, self->a, BUF_SIZE, IOVA_A))
			_exit(1);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			edu_dma(&c, IOVA_A, 0, 2048, false);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &ready, 1));
	close(pipefd[0]);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));

	EXPECT_EQ(self->pins, foll_pins());
	EXPECT_EQ(0, group_is_clean(self->edus[0].bdf, self->a));
}

TEST_HARNESS_MAIN
