// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event queues of /dev/ioasid with real (emulated) hardware: QEMU's
 * edu devices behind an emulated VT-d, bound through VFIO. A DMA that
 * the I/O page table refuses makes VT-d raise its fault interrupt, and
 * the fault reaches the queues as a FAULT record that names the device
 * by the label it was attached with. What stops a device reaching an
 * IOASID (UNMAP, detach, the device going away) is an INVAL record.
 *
 * VT-d tells the page of the faulting IOVA, whether the device read
 * memory or wrote it, and a fault reason (the record's vendor_code) that
 * does not tell an unmapped IOVA from a read-only one: the reason is
 * IOASID_FAULT_OTHER. The edus behind the PCIe-to-PCI bridge fault under
 * the bridge's requester ID, which names no device: their faults are
 * reported to nobody.
 *
 * The emulated VT-d has one fault recording register and drops a fault
 * that comes while another is pending, so every test makes one fault,
 * waits for its record, and only then makes the next. Waiting is poll()
 * on the queue (or on VFIO's request eventfd) with a bound, never a
 * sleep.
 *
 * The tests need an IOMMU with interrupt remapping (the default and amd
 * profiles); elsewhere they skip. The FAULT records are VT-d's: QEMU's
 * AMD-Vi refuses the same DMAs but logs no event for them (see
 * iommu_faults_unreported()). There, a test checks all the rest (the
 * INVAL records, memory left unchanged, no record for the refused DMA)
 * and then skips, saying so; a test about faults only skips at once.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ioasid_fd_utils.h"
#include "edu_utils.h"

#define PAGE 4096UL
#define BUF_PAGES 16
#define BUF_SIZE (BUF_PAGES * PAGE)
#define IOVA_A (1024 * 1024UL)		/* mapped by every fixture */
#define IOVA_B (4 * 1024 * 1024UL)	/* mapped only where a test says */
#define DMA_LEN 512UL
#define LABEL(i) (0x7e570000ULL + (i))
#define COOKIE 0xc00c1e5eedULL
#define WAIT_MS 10000
#define NEEDS "needs an IOMMU with interrupt remapping (the default or amd profile)"

/* VT-d fault reasons: the second-level PTE does not allow the access */
#define VTD_FR_PTE_WRITE 0x5
#define VTD_FR_PTE_READ 0x6

/* A FAULT record as VT-d makes them: reason OTHER, VT-d's own reason */
#define EXPECT_VTD_FAULT(ev, _ioasid, _label, _iova, _access)                \
	do {                                                                  \
		EXPECT_EQ(IOASID_EVENT_FAULT, (ev)->type);                    \
		EXPECT_EQ(_ioasid, (ev)->ioasid);                             \
		EXPECT_EQ(_label, (ev)->label);                               \
		EXPECT_EQ(_iova, (ev)->fault.iova);                           \
		EXPECT_EQ(_access, (ev)->fault.access);                       \
		EXPECT_EQ(IOASID_FAULT_OTHER, (ev)->fault.reason);            \
		EXPECT_EQ((_access) == IOASID_FAULT_READ ? VTD_FR_PTE_READ :  \
			  VTD_FR_PTE_WRITE, (ev)->fault.vendor_code);         \
	} while (0)

#define EXPECT_INVAL(ev, _ioasid, _label, _iova, _last, _cause, _cookie)     \
	do {                                                                  \
		EXPECT_EQ(IOASID_EVENT_INVAL, (ev)->type);                    \
		EXPECT_EQ(_ioasid, (ev)->ioasid);                             \
		EXPECT_EQ(_label, (ev)->label);                               \
		EXPECT_EQ(_iova, (ev)->inval.iova);                           \
		EXPECT_EQ(_last, (ev)->inval.last);                           \
		EXPECT_EQ(_cause, (ev)->inval.cause);                         \
		EXPECT_EQ(_cookie, (ev)->inval.cookie);                       \
	} while (0)

/*
 * What every fixture sets up: an ioasid fd with one or two IOASIDs; edus
 * bound to it through VFIO and attached, each under its own label; a
 * buffer mapped at IOVA_A of each IOASID; and, last so that it sees
 * nothing of the setup, a non-blocking queue of every event of the fd.
 * The queue has no IOASID filter: a parked device's faults are about no
 * IOASID.
 */
struct rig {
	struct edu edus[NUM_EDUS];
	int fd;
	uint32_t ioasid[2];
	int nioasids;
	/* Their ioasid_fd is @fd, which rig_close() closes once */
	struct edu_ctx dev[3];
	uint64_t label[3];
	int ndevs;
	int qfd;
	uint64_t seq;		/* of the next record */
	int64_t pins;		/* FOLL_PIN pages before the setup */
	int64_t locked;		/* locked_vm before the setup */
	bool faults;		/* the IOMMU reports faults as VT-d does */
	char *a, *b;
};

static bool all_bytes(const char *p, size_t len, char val)
{
	size_t i;

	for (i = 0; i != len; i++)
		if (p[i] != val)
			return false;
	return true;
}

/* The device copies DMA_LEN bytes from memory at @iova into its buffer */
static int dev_reads(struct edu_ctx *c, uint64_t iova)
{
	return edu_dma(c, iova, 0, DMA_LEN, false);
}

/* The device copies DMA_LEN bytes of its buffer to memory at @iova */
static int dev_writes(struct edu_ctx *c, uint64_t iova)
{
	return edu_dma(c, iova, 0, DMA_LEN, true);
}

static void rig_init(struct rig *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->qfd = -1;
	r->faults = !iommu_faults_unreported();
	for (i = 0; i != ARRAY_SIZE(r->dev); i++)
		edu_ctx_init(&r->dev[i], BACKEND_IOASID);
}

/* The ioasid fd, @nioasids IOASIDs and the buffers */
static void rig_open(struct __test_metadata *_metadata, struct rig *r,
		     int nioasids)
{
	int i;

	ASSERT_EQ(NUM_EDUS, find_edus(r->edus, NUM_EDUS));
	r->pins = foll_pins();
	ASSERT_LE(0, r->pins);
	r->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_LE(0, r->fd);
	r->locked = _test_locked(r->fd);
	ASSERT_LE(0, r->locked);
	for (i = 0; i != nioasids; i++)
		ASSERT_EQ(0, _test_alloc(r->fd, &r->ioasid[i]));
	r->nioasids = nioasids;
	r->a = edu_buf_alloc(BUF_SIZE);
	r->b = edu_buf_alloc(BUF_SIZE);
	ASSERT_NE(NULL, r->a);
	ASSERT_NE(NULL, r->b);
}

/*
 * Bind edus[@edu] (alone in its group) to vfio-pci and to the fd, and
 * attach it to ioasid[@ioasid] as @label: the rig's next device
 */
static void rig_add_device(struct __test_metadata *_metadata, struct rig *r,
			   int edu, int ioasid, uint64_t label)
{
	struct edu_ctx *c = &r->dev[r->ndevs];
	const char *bdf = r->edus[edu].bdf;

	ASSERT_GT(ARRAY_SIZE(r->dev), r->ndevs);
	ASSERT_EQ(0, bind_driver(bdf, "vfio-pci"));
	r->label[r->ndevs++] = label;
	c->ioasid_fd = r->fd;
	c->ioasid = r->ioasid[ioasid];
	c->group_fd = open_vfio_group(bdf);
	ASSERT_LE(0, c->group_fd);
	ASSERT_EQ(0, edu_bind_ioasid(c->group_fd, r->fd, NULL, 0));
	ASSERT_EQ(0, edu_open_device(c, bdf));
	ASSERT_EQ(0, edu_attach(c->dev_fd, c->ioasid, label, NULL));
}

/* Buffer a at IOVA_A of every IOASID, then the queue */
static void rig_start(struct __test_metadata *_metadata, struct rig *r)
{
	int i;

	for (i = 0; i != r->nioasids; i++)
		ASSERT_EQ(0, ioasid_map(r->fd, r->ioasid[i], r->a, BUF_SIZE,
					IOVA_A));
	ASSERT_EQ(0, _test_eventq_alloc(r->fd, 0, 64, EVENTS_ALL,
					IOASID_EVENTQ_NONBLOCK, NULL, &r->qfd));
}

/* Close everything; then nothing may stay pinned */
static void rig_close(struct __test_metadata *_metadata, struct rig *r)
{
	int i;

	for (i = 0; i != ARRAY_SIZE(r->dev); i++) {
		close_fd(&r->dev[i].dev_fd);
		close_fd(&r->dev[i].group_fd);
	}
	close_fd(&r->qfd);
	close_fd(&r->fd);
	if (r->a)
		EXPECT_EQ(r->pins, foll_pins());
	if (r->a)
		munmap(r->a, BUF_SIZE);
	if (r->b)
		munmap(r->b, BUF_SIZE);
}

/* The queue's next record, within WAIT_MS, next in sequence */
#define test_next_event(r, ev)                                                \
	({                                                                    \
		ASSERT_TRUE(wait_readable((r)->qfd, WAIT_MS));                \
		ASSERT_EQ(sizeof(*(ev)), read((r)->qfd, ev, sizeof(*(ev))));  \
		EXPECT_EQ((r)->seq, (ev)->seq);                               \
		(r)->seq++;                                                   \
	})

/*
 * The FAULT record of a refused DMA, where the IOMMU reports one: the
 * queue's next record. Elsewhere there must be none.
 */
#define test_fault_event(r, ev, _ioasid, _label, _iova, _access)             \
	({                                                                    \
		if ((r)->faults) {                                            \
			test_next_event(r, ev);                               \
			EXPECT_VTD_FAULT(ev, _ioasid, _label, _iova, _access);\
		} else {                                                      \
			test_no_event((r)->qfd);                              \
		}                                                             \
	})

/*
 * The kernel prints DMAR faults too: the log and the queue say the same.
 * The log is ratelimited, so this is the first fixture of the first
 * program in the suite that makes the IOMMU fault.
 */
FIXTURE(edu_log)
{
	struct rig r;
};

FIXTURE_SETUP(edu_log)
{
	rig_init(&self->r);
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	rig_open(_metadata, &self->r, 1);
	rig_add_device(_metadata, &self->r, EDU_ROOT_A, 0, LABEL(0));
	rig_start(_metadata, &self->r);
}

FIXTURE_TEARDOWN(edu_log)
{
	rig_close(_metadata, &self->r);
}

TEST_F(edu_log, a_fault_is_in_the_queue_and_in_the_kernel_log)
{
	struct rig *r = &self->r;
	struct ioasid_event ev;
	char needle[160];
	int kmsg;

	SKIP_IF_FAULTS_UNREPORTED(return);
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, dev_reads(&r->dev[0], IOVA_B));
	test_next_event(r, &ev);
	EXPECT_VTD_FAULT(&ev, r->ioasid[0], LABEL(0), IOVA_B,
			 IOASID_FAULT_READ);
	/* The log names the device by bus:dev.fn, without the domain */
	snprintf(needle, sizeof(needle),
		 "[DMA Read NO_PASID] Request device [%s] fault addr 0x%llx [fault reason 0x%02x]",
		 r->edus[EDU_ROOT_A].bdf + strlen("0000:"),
		 (unsigned long long)IOVA_B, VTD_FR_PTE_READ);
	EXPECT_TRUE(kmsg_find(kmsg, needle));
	close(kmsg);
	test_no_event(r->qfd);
}

/* One root-bus edu, the one the variant names, attached with its label */
FIXTURE(edu_events)
{
	struct rig r;
};

FIXTURE_VARIANT(edu_events)
{
	int edu;
};

FIXTURE_VARIANT_ADD(edu_events, root_bus_edu_a)
{
	.edu = EDU_ROOT_A,
};

FIXTURE_VARIANT_ADD(edu_events, root_bus_edu_b)
{
	.edu = EDU_ROOT_B,
};

FIXTURE_SETUP(edu_events)
{
	rig_init(&self->r);
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	rig_open(_metadata, &self->r, 1);
	rig_add_device(_metadata, &self->r, variant->edu, 0,
		       LABEL(variant->edu));
	rig_start(_metadata, &self->r);
}

FIXTURE_TEARDOWN(edu_events)
{
	rig_close(_metadata, &self->r);
}

TEST_F(edu_events, dma_from_an_unmapped_iova_is_a_read_fault)
{
	struct rig *r = &self->r;
	struct edu_ctx *c = &r->dev[0];
	struct ioasid_event ev;

	SKIP_IF_FAULTS_UNREPORTED(return);
	/* VT-d reports the page */
	ASSERT_EQ(0, dev_reads(c, IOVA_B + PAGE + 0x100));
	test_next_event(r, &ev);
	EXPECT_VTD_FAULT(&ev, r->ioasid[0], r->label[0], IOVA_B + PAGE,
			 IOASID_FAULT_READ);
	EXPECT_EQ(0, ev.__reserved);
	EXPECT_EQ(0, ev.fault.__reserved);
	test_no_event(r->qfd);

	/* The fault broke nothing: DMA through the mapping works on */
	edu_pattern(r->a, DMA_LEN, 1);
	ASSERT_EQ(0, dev_reads(c, IOVA_A));
	ASSERT_EQ(0, dev_writes(c, IOVA_A + PAGE));
	EXPECT_EQ(0, memcmp(r->a, r->a + PAGE, DMA_LEN));
	test_no_event(r->qfd);
}

TEST_F(edu_events, dma_into_a_read_only_mapping_is_a_write_fault)
{
	struct rig *r = &self->r;
	struct edu_ctx *c = &r->dev[0];
	struct ioasid_event ev;
	uint64_t iova = IOVA_B;

	memset(r->b, 0x5b, BUF_SIZE);
	ASSERT_EQ(0, _test_map(r->fd, r->ioasid[0], r->b, BUF_SIZE, &iova,
			       IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	/* The device may read it... */
	ASSERT_EQ(0, dev_reads(c, IOVA_B));
	ASSERT_EQ(0, dev_writes(c, IOVA_A + PAGE));
	EXPECT_TRUE(all_bytes(r->a + PAGE, DMA_LEN, 0x5b));
	test_no_event(r->qfd);

	/* ...and not write it */
	edu_pattern(r->a, DMA_LEN, 2);
	ASSERT_EQ(0, dev_reads(c, IOVA_A));
	ASSERT_EQ(0, dev_writes(c, IOVA_B + 2 * PAGE));
	test_fault_event(r, &ev, r->ioasid[0], r->label[0], IOVA_B + 2 * PAGE,
			 IOASID_FAULT_WRITE);
	EXPECT_TRUE(all_bytes(r->b, BUF_SIZE, 0x5b));
	test_no_event(r->qfd);
	SKIP_IF_FAULTS_UNREPORTED(return);
}

TEST_F(edu_events, a_detached_device_is_parked_and_faults_without_an_ioasid)
{
	struct rig *r = &self->r;
	struct edu_ctx *c = &r->dev[0];
	struct ioasid_event ev;

	edu_pattern(r->a, DMA_LEN, 3);
	ASSERT_EQ(0, dev_reads(c, IOVA_A));
	ASSERT_EQ(0, edu_detach(c->dev_fd));
	test_next_event(r, &ev);
	EXPECT_INVAL(&ev, r->ioasid[0], r->label[0], 0, UINT64_MAX,
		     IOASID_INVAL_DEVICE_DETACHED, 0);
	test_no_event(r->qfd);

	/* IOVA_A is still mapped, but not for a parked device */
	memset(r->a, 0x44, BUF_SIZE);
	ASSERT_EQ(0, dev_writes(c, IOVA_A + PAGE));
	test_fault_event(r, &ev, 0, r->label[0], IOVA_A + PAGE,
			 IOASID_FAULT_WRITE);
	EXPECT_TRUE(all_bytes(r->a, BUF_SIZE, 0x44));
	ASSERT_EQ(0, dev_reads(c, IOVA_A + 2 * PAGE));
	test_fault_event(r, &ev, 0, r->label[0], IOVA_A + 2 * PAGE,
			 IOASID_FAULT_READ);
	test_no_event(r->qfd);

	/* Attached again, it reaches the IOASID again */
	ASSERT_EQ(0, edu_attach(c->dev_fd, r->ioasid[0], r->label[0], NULL));
	edu_pattern(r->a, DMA_LEN, 4);
	ASSERT_EQ(0, dev_reads(c, IOVA_A));
	ASSERT_EQ(0, dev_writes(c, IOVA_A + 3 * PAGE));
	EXPECT_EQ(0, memcmp(r->a, r->a + 3 * PAGE, DMA_LEN));
	test_no_event(r->qfd);
	SKIP_IF_FAULTS_UNREPORTED(return);
}

TEST_F(edu_events, unmap_is_an_invalidation_and_dma_after_it_faults)
{
	struct rig *r = &self->r;
	struct edu_ctx *c = &r->dev[0];
	struct ioasid_event ev;
	uint64_t unmapped = 0;

	edu_pattern(r->a, DMA_LEN, 5);
	ASSERT_EQ(0, dev_reads(c, IOVA_A));
	ASSERT_EQ(0, _test_unmap(r->fd, r->ioasid[0], IOVA_A, BUF_SIZE, 0,
				 &unmapped));
	ASSERT_EQ(BUF_SIZE, unmapped);
	test_next_event(r, &ev);
	EXPECT_INVAL(&ev, r->ioasid[0], 0, IOVA_A, IOVA_A + BUF_SIZE - 1,
		     IOASID_INVAL_UNMAP, 0);
	EXPECT_EQ(0, _test_pinned(r->fd, r->a, BUF_SIZE));
	EXPECT_EQ(r->locked, _test_locked(r->fd));

	memset(r->a + 3 * PAGE, 0x33, PAGE);
	ASSERT_EQ(0, dev_writes(c, IOVA_A + 3 * PAGE));
	test_fault_event(r, &ev, r->ioasid[0], r->label[0], IOVA_A + 3 * PAGE,
			 IOASID_FAULT_WRITE);
	EXPECT_TRUE(all_bytes(r->a + 3 * PAGE, PAGE, 0x33));
	test_no_event(r->qfd);
	SKIP_IF_FAULTS_UNREPORTED(return);
}

TEST_F(edu_events, async_unmap_completes_with_its_cookie_then_dma_faults)
{
	struct rig *r = &self->r;
	struct edu_ctx *c = &r->dev[0];
	struct ioasid_event ev;
	uint64_t unmapped = 0;

	edu_pattern(r->a, DMA_LEN, 6);
	ASSERT_EQ(0, dev_reads(c, IOVA_A));
	ASSERT_EQ(0, _test_unmap_async(r->fd, r->ioasid[0], IOVA_A, BUF_SIZE,
				       COOKIE, &unmapped));
	ASSERT_EQ(BUF_SIZE, unmapped);
	/* Once the IOTLB is flushed and the pages are unpinned */
	test_next_event(r, &ev);
	EXPECT_INVAL(&ev, r->ioasid[0], 0, IOVA_A, IOVA_A + BUF_SIZE - 1,
		     IOASID_INVAL_ASYNC_UNMAP, COOKIE);
	EXPECT_EQ(0, _test_pinned(r->fd, r->a, BUF_SIZE));
	EXPECT_EQ(r->locked, _test_locked(r->fd));

	memset(r->a + 2 * PAGE, 0x22, PAGE);
	ASSERT_EQ(0, dev_writes(c, IOVA_A + 2 * PAGE));
	test_fault_event(r, &ev, r->ioasid[0], r->label[0], IOVA_A + 2 * PAGE,
			 IOASID_FAULT_WRITE);
	EXPECT_TRUE(all_bytes(r->a + 2 * PAGE, PAGE, 0x22));
	test_no_event(r->qfd);
	SKIP_IF_FAULTS_UNREPORTED(return);
}

/*
 * Both root-bus edus in one ioasid fd, under labels 0 and 1: in one
 * IOASID, where only the label tells their faults apart, or each in its
 * own.
 */
FIXTURE(edu_labels)
{
	struct rig r;
};

FIXTURE_VARIANT(edu_labels)
{
	bool two_ioasids;
};

FIXTURE_VARIANT_ADD(edu_labels, one_ioasid)
{
	.two_ioasids = false,
};

FIXTURE_VARIANT_ADD(edu_labels, two_ioasids)
{
	.two_ioasids = true,
};

FIXTURE_SETUP(edu_labels)
{
	rig_init(&self->r);
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	rig_open(_metadata, &self->r, variant->two_ioasids ? 2 : 1);
	rig_add_device(_metadata, &self->r, EDU_ROOT_A, 0, LABEL(0));
	rig_add_device(_metadata, &self->r, EDU_ROOT_B,
		       variant->two_ioasids ? 1 : 0, LABEL(1));
	rig_start(_metadata, &self->r);
}

FIXTURE_TEARDOWN(edu_labels)
{
	rig_close(_metadata, &self->r);
}

TEST_F(edu_labels, each_root_bus_edu_faults_under_its_own_label)
{
	/* Which device faults, one after the other; reads, then writes */
	static const int order[] = { 0, 1, 1, 0 };
	struct rig *r = &self->r;
	struct ioasid_event ev;
	int i;

	SKIP_IF_FAULTS_UNREPORTED(return);
	for (i = 0; i != ARRAY_SIZE(order); i++) {
		struct edu_ctx *c = &r->dev[order[i]];
		uint64_t iova = IOVA_B + i * PAGE;
		bool write = i >= 2;

		ASSERT_EQ(0, write ? dev_writes(c, iova) : dev_reads(c, iova));
		test_next_event(r, &ev);
		EXPECT_VTD_FAULT(&ev, c->ioasid, r->label[order[i]], iova,
				 write ? IOASID_FAULT_WRITE :
					 IOASID_FAULT_READ);
	}
	test_no_event(r->qfd);
}

/*
 * A bridged edu's fault comes from the bridge's requester ID, which is
 * no device's: nobody hears of it. What shows that nothing was queued
 * for it is the fault of a root-bus edu that follows: it is the first
 * record. Until the kernel has taken the bridged fault out of VT-d's one
 * fault recording register, VT-d drops a new fault, so the root-bus edu
 * faults again until its record comes.
 */
TEST_F_TIMEOUT(edu_labels, a_bridged_edu_fault_is_reported_to_nobody, 60)
{
	struct rig *r = &self->r;
	struct ioasid_event ev;
	int tries;

	SKIP_IF_FAULTS_UNREPORTED(return);
	ASSERT_EQ(0, bind_driver(r->edus[EDU_BRIDGED + 1].bdf, "vfio-pci"));
	rig_add_device(_metadata, r, EDU_BRIDGED, 0, LABEL(2));
	ASSERT_EQ(0, dev_reads(&r->dev[2], IOVA_B));

	for (tries = 0; tries != 3; tries++) {
		ASSERT_EQ(0, dev_reads(&r->dev[0], IOVA_B + PAGE));
		if (wait_readable(r->qfd, WAIT_MS))
			break;
	}
	test_next_event(r, &ev);
	EXPECT_VTD_FAULT(&ev, r->ioasid[0], LABEL(0), IOVA_B + PAGE,
			 IOASID_FAULT_READ);
	test_no_event(r->qfd);
}

/*
 * The second root-bus edu goes away (as in a hot-unplug) while it is
 * bound, attached, and its IOASID mapped; then a rescan brings it back.
 * vfio-pci's remove waits for the user to close the device fd, and asks
 * for it through the device's request eventfd.
 */
FIXTURE(edu_remove)
{
	struct rig r;
	int efd;
	pid_t remover;
	struct edu_ctx again;
};

FIXTURE_SETUP(edu_remove)
{
	rig_init(&self->r);
	self->efd = -1;
	self->remover = -1;
	edu_ctx_init(&self->again, BACKEND_IOASID);
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	rig_open(_metadata, &self->r, 1);
	rig_add_device(_metadata, &self->r, EDU_ROOT_B, 0, LABEL(1));
	rig_start(_metadata, &self->r);
}

FIXTURE_TEARDOWN(edu_remove)
{
	const char *bdf = self->r.edus[EDU_ROOT_B].bdf;

	edu_close(&self->again);
	/* The device fd goes first: a removal in progress waits for it */
	rig_close(_metadata, &self->r);
	close_fd(&self->efd);
	if (self->remover > 0)
		waitpid(self->remover, NULL, 0);
	/* Leave the machine as it was, for the tests that follow */
	if (!pci_present(bdf))
		EXPECT_EQ(0, pci_rescan());
	EXPECT_TRUE(pci_present(bdf));
}

TEST_F_TIMEOUT(edu_remove, a_removed_device_is_reported_and_comes_back, 120)
{
	struct rig *r = &self->r;
	struct edu_ctx *c = &r->dev[0];
	const char *bdf = r->edus[EDU_ROOT_B].bdf;
	uint64_t unmapped = 0, count;
	struct ioasid_event ev;
	int status;

	/* In use: DMA through a mapping, whose pages are pinned, charged */
	edu_pattern(r->a, DMA_LEN, 7);
	ASSERT_EQ(0, dev_reads(c, IOVA_A));
	ASSERT_EQ(0, dev_writes(c, IOVA_A + PAGE));
	ASSERT_EQ(0, memcmp(r->a, r->a + PAGE, DMA_LEN));
	ASSERT_EQ(BUF_PAGES, _test_pinned(r->fd, r->a, BUF_SIZE));
	ASSERT_EQ(r->locked + BUF_PAGES, _test_locked(r->fd));

	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, edu_set_req_eventfd(c->dev_fd, self->efd));
	self->remover = pci_remove_async(bdf);
	ASSERT_LT(0, self->remover);

	/* VFIO asks for the device; until it is closed, it stays attached */
	ASSERT_TRUE(wait_readable(self->efd, WAIT_MS));
	ASSERT_EQ(sizeof(count), read(self->efd, &count, sizeof(count)));
	test_no_event(r->qfd);
	close_fd(&c->dev_fd);
	test_next_event(r, &ev);
	EXPECT_INVAL(&ev, r->ioasid[0], LABEL(1), 0, UINT64_MAX,
		     IOASID_INVAL_DEVICE_REMOVED, 0);
	ASSERT_EQ(self->remover, waitpid(self->remover, &status, 0));
	self->remover = -1;
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_FALSE(pci_present(bdf));
	close_fd(&c->group_fd);
	test_no_event(r->qfd);

	/*
	 * The IOASID is the user's and keeps its mapping; once that is
	 * unmapped nothing is pinned or charged any more, the device's
	 * I/O page table included.
	 */
	ASSERT_EQ(0, _test_unmap(r->fd, r->ioasid[0], IOVA_A, BUF_SIZE, 0,
				 &unmapped));
	EXPECT_EQ(BUF_SIZE, unmapped);
	test_next_event(r, &ev);
	EXPECT_INVAL(&ev, r->ioasid[0], 0, IOVA_A, IOVA_A + BUF_SIZE - 1,
		     IOASID_INVAL_UNMAP, 0);
	EXPECT_EQ(0, _test_pinned(r->fd, r->a, BUF_SIZE));
	EXPECT_EQ(r->locked, _test_locked(r->fd));
	EXPECT_EQ(r->pins, foll_pins());
	test_no_event(r->qfd);

	/* Back on the bus, it is a new device: it starts from scratch */
	ASSERT_EQ(0, pci_rescan());
	ASSERT_TRUE(pci_present(bdf));
	ASSERT_EQ(0, bind_driver(bdf, "vfio-pci"));
	ASSERT_EQ(0, edu_open(&self->again, BACKEND_IOASID, bdf, LABEL(1)));
	ASSERT_EQ(0, edu_map(&self->again, r->b, BUF_SIZE, IOVA_A));
	edu_pattern(r->b, DMA_LEN, 8);
	ASSERT_EQ(0, dev_reads(&self->again, IOVA_A));
	ASSERT_EQ(0, dev_writes(&self->again, IOVA_A + 2 * PAGE));
	EXPECT_EQ(0, memcmp(r->b, r->b + 2 * PAGE, DMA_LEN));
}

TEST_HARNESS_MAIN
