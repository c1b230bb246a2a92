// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests of /dev/ioasid on the mock IOMMUs: the fd, the ioctl
 * conventions, IOASIDs, map and unmap, pinning and accounting, and the
 * I/O page tables kept for attached devices.
 */
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ioasid_fd_utils.h"

FIXTURE(ioasid_fd)
{
	int fd;
};

FIXTURE_SETUP(ioasid_fd)
{
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
}

FIXTURE_TEARDOWN(ioasid_fd)
{
	close(self->fd);
}

TEST(device_node_is_a_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(IOASID_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(open_and_close_many_times)
{
	int fds[64];
	int i;

	for (i = 0; i != 64; i++) {
		fds[i] = open(IOASID_DEV, O_RDWR);
		ASSERT_NE(-1, fds[i]);
	}
	for (i = 0; i != 64; i++)
		ASSERT_EQ(0, close(fds[i]));
}

/*
 * IDs only grow: at the end of the 31-bit space the fd creates no more
 * objects (ENOSPC), rather than hand out an ID a stale handle may still
 * name, even once an object is destroyed.
 */
TEST_F(ioasid_fd, ids_are_never_reused_even_at_the_end_of_the_id_space)
{
	struct ioasid_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOASID_TEST_OP_SKIP_IDS,
		.skip_ids.next = INT32_MAX - 1,
	};
	uint32_t a, b, c;
	int qfd;

	test_alloc(&a);
	ASSERT_EQ(0, _test_cmd(self->fd, &cmd));
	test_alloc(&b);
	EXPECT_EQ(INT32_MAX - 1, b);
	test_alloc(&c);
	EXPECT_EQ(INT32_MAX, c);
	EXPECT_ERRNO(ENOSPC, _test_alloc(self->fd, &c));
	EXPECT_ERRNO(ENOSPC, _test_eventq_alloc(self->fd, 0, 4, EVENTS_ALL, 0,
						NULL, &qfd));
	test_destroy(a);
	test_destroy(b);
	EXPECT_ERRNO(ENOSPC, _test_alloc(self->fd, &c));
	/* What exists still works; the ID space never goes back */
	EXPECT_EQ(0, _test_mappings(self->fd, INT32_MAX));
	cmd.skip_ids.next = 1;
	ASSERT_EQ(0, _test_cmd(self->fd, &cmd));
	EXPECT_ERRNO(ENOSPC, _test_alloc(self->fd, &c));
	cmd.skip_ids.next = (uint32_t)INT32_MAX + 2;
	EXPECT_ERRNO(EINVAL, _test_cmd(self->fd, &cmd));
}

TEST_F(ioasid_fd, info_reports_version_and_capabilities)
{
	struct ioasid_info info;

	test_cmd_info(&info);
	EXPECT_EQ(IOASID_API_VERSION, info.out_api_version);
	/* The rig's kernel is built with the mock */
	EXPECT_TRUE(info.out_capabilities & IOASID_CAP_TEST);
	EXPECT_EQ(0, info.__reserved);
}

TEST_F(ioasid_fd, info_follows_the_size_rules)
{
	TEST_LENGTH(ioasid_info, IOASID_INFO, out_capabilities);
}

TEST_F(ioasid_fd, info_refuses_unknown_flags_and_reserved)
{
	struct ioasid_info info = { .size = sizeof(info), .flags = 1 };

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_INFO, &info));
	info.flags = 0;
	info.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_INFO, &info));
}

TEST_F(ioasid_fd, info_writes_only_what_userspace_passed)
{
	struct {
		struct ioasid_info info;
		uint64_t guard;
	} buf;

	/* A structure of the first release gets nothing past its end */
	memset(&buf, 0xff, sizeof(buf));
	buf.info.size = sizeof(buf.info);
	buf.info.flags = 0;
	buf.info.__reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_INFO, &buf.info));
	EXPECT_EQ(UINT64_MAX, buf.guard);
}

TEST_F(ioasid_fd, info_faults_on_a_bad_pointer)
{
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOASID_INFO, NULL));
}

TEST_F(ioasid_fd, unknown_ioctl_is_enotty)
{
	struct ioasid_info info = { .size = sizeof(info) };

	/* Our type, a number past the table */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(IOASID_FD_TYPE, 0x7f), &info));
	/* Another subsystem's type with our number */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(';', IOASID_CMD_INFO), &info));
	/* Our number, with a size and direction encoded */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd,
				   _IOWR(IOASID_FD_TYPE, IOASID_CMD_INFO,
					 struct ioasid_info), &info));
}

/* The size rules, for every ioctl */
TEST_F(ioasid_fd, every_ioctl_follows_the_size_rules)
{
	TEST_LENGTH(ioasid_destroy, IOASID_DESTROY, __reserved);
	TEST_LENGTH(ioasid_alloc, IOASID_ALLOC, __reserved);
	TEST_LENGTH(ioasid_iova_ranges, IOASID_IOVA_RANGES, out_iova_alignment);
	TEST_LENGTH(ioasid_map, IOASID_MAP, iova);
	TEST_LENGTH(ioasid_unmap, IOASID_UNMAP, out_length);
	TEST_LENGTH(ioasid_test_cmd, IOASID_TEST, last);
}

TEST_F(ioasid_fd, every_ioctl_refuses_unknown_flags_and_reserved)
{
	struct ioasid_destroy destroy = { .size = sizeof(destroy) };
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_iova_ranges ranges = { .size = sizeof(ranges) };
	struct ioasid_map map = { .size = sizeof(map) };
	struct ioasid_unmap unmap = { .size = sizeof(unmap) };
	struct ioasid_test_cmd test = { .size = sizeof(test) };
	uint32_t ioasid;

	test_alloc(&ioasid);

	destroy.id = ioasid;
	destroy.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_DESTROY, &destroy));
	destroy.flags = 0;
	destroy.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_DESTROY, &destroy));

	alloc.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_ALLOC, &alloc));
	alloc.flags = 0;
	alloc.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_ALLOC, &alloc));

	ranges.ioasid = ioasid;
	ranges.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_IOVA_RANGES, &ranges));

	map.ioasid = ioasid;
	map.flags = MAP_RW | 0x80000000;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_MAP, &map));
	map.flags = MAP_RW;
	map.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_MAP, &map));

	unmap.ioasid = ioasid;
	unmap.flags = 0x80000000;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_UNMAP, &unmap));
	unmap.flags = IOASID_UNMAP_ALL;
	unmap.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_UNMAP, &unmap));

	test.op = IOASID_TEST_OP_MEMLOCK;
	test.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_TEST, &test));
	test.__reserved = 0;
	test.op = 0;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_TEST, &test));

	/* None of it changed anything: the IOASID is still there, empty */
	test_destroy(ioasid);
}

/*
 * One IOASID, with mock devices attached according to the variant. The
 * buffer is 4MiB of anonymous memory in small pages, faulted in.
 *
 * Three fixtures share this state, each with the variants its tests mean
 * something in, so that no test has a variant to skip:
 *   ioasid                     IOASIDs, map and unmap, with or without
 *                              devices, under a small memlock limit too;
 *   ioasid_attached            what attached devices see (DMA, domains);
 *   ioasid_attached_unlimited  the same, for tests that pin more than the
 *                              small limit allows or set their own.
 */
#define PAGE 4096UL
#define MIB (1024UL * 1024)
#define BUF_SIZE (4 * MIB)
#define MOCK_LABEL(i) (0x1abe1000ULL + (i))
/* The small_memlock variants' limit: their tests pin no more than this */
#define SMALL_MEMLOCK_PAGES 16

/*
 * The fixtures' setup and teardown: macros, as each fixture's self has a
 * type of its own. Small pages: a pin holds a whole folio, so on a THP
 * every page would count as pinned once one of them is. Closing the fd
 * releases everything: no page may stay pinned.
 */
#define ioasid_fixture_setup()						      \
	do {								      \
		int __i;						      \
									      \
		self->pins_at_setup = foll_pins();			      \
		ASSERT_LE(0, self->pins_at_setup);			      \
		self->fd = open(IOASID_DEV, O_RDWR);			      \
		ASSERT_NE(-1, self->fd);				      \
		test_alloc(&self->ioasid);				      \
		if (variant->memlock_pages)				      \
			ASSERT_EQ(0, _test_memlock_set(self->fd,	      \
						       variant->memlock_pages)); \
		for (__i = 0; __i != variant->ndevs; __i++) {		      \
			test_mock_device(__i, &self->dev[__i]);		      \
			test_attach(self->dev[__i], self->ioasid,	      \
				    MOCK_LABEL(__i));			      \
		}							      \
		self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,      \
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);	      \
		ASSERT_NE(MAP_FAILED, self->buf);			      \
		ASSERT_EQ(0, madvise(self->buf, BUF_SIZE, MADV_NOHUGEPAGE));  \
		memset(self->buf, 0x5a, BUF_SIZE);			      \
	} while (0)

#define ioasid_fixture_teardown()					      \
	do {								      \
		close(self->fd);					      \
		munmap(self->buf, BUF_SIZE);				      \
		EXPECT_EQ(self->pins_at_setup, foll_pins());		      \
	} while (0)

FIXTURE(ioasid)
{
	int fd;
	uint32_t ioasid;
	uint32_t dev[2];
	int64_t pins_at_setup;
	char *buf;
};

FIXTURE_VARIANT(ioasid)
{
	int ndevs;
	uint64_t memlock_pages;
};

FIXTURE_VARIANT_ADD(ioasid, no_device)
{
	.ndevs = 0,
};

FIXTURE_VARIANT_ADD(ioasid, one_mock_device)
{
	.ndevs = 1,
};

/* Device 0 behind mock IOMMU A, device 1 behind mock IOMMU B */
FIXTURE_VARIANT_ADD(ioasid, two_mock_iommus)
{
	.ndevs = 2,
};

FIXTURE_VARIANT_ADD(ioasid, small_memlock)
{
	.ndevs = 1,
	.memlock_pages = SMALL_MEMLOCK_PAGES,
};

FIXTURE_SETUP(ioasid)
{
	ioasid_fixture_setup();
}

FIXTURE_TEARDOWN(ioasid)
{
	ioasid_fixture_teardown();
}

/* Every variant has a device attached */
FIXTURE(ioasid_attached)
{
	int fd;
	uint32_t ioasid;
	uint32_t dev[2];
	int64_t pins_at_setup;
	char *buf;
};

FIXTURE_VARIANT(ioasid_attached)
{
	int ndevs;
	uint64_t memlock_pages;
};

FIXTURE_VARIANT_ADD(ioasid_attached, one_mock_device)
{
	.ndevs = 1,
};

FIXTURE_VARIANT_ADD(ioasid_attached, two_mock_iommus)
{
	.ndevs = 2,
};

FIXTURE_VARIANT_ADD(ioasid_attached, small_memlock)
{
	.ndevs = 1,
	.memlock_pages = SMALL_MEMLOCK_PAGES,
};

FIXTURE_SETUP(ioasid_attached)
{
	ioasid_fixture_setup();
}

FIXTURE_TEARDOWN(ioasid_attached)
{
	ioasid_fixture_teardown();
}

/* No memlock limit of the fixture's: the test pins more, or sets its own */
FIXTURE(ioasid_attached_unlimited)
{
	int fd;
	uint32_t ioasid;
	uint32_t dev[2];
	int64_t pins_at_setup;
	char *buf;
};

FIXTURE_VARIANT(ioasid_attached_unlimited)
{
	int ndevs;
	uint64_t memlock_pages;
};

FIXTURE_VARIANT_ADD(ioasid_attached_unlimited, one_mock_device)
{
	.ndevs = 1,
};

FIXTURE_VARIANT_ADD(ioasid_attached_unlimited, two_mock_iommus)
{
	.ndevs = 2,
};

FIXTURE_SETUP(ioasid_attached_unlimited)
{
	ioasid_fixture_setup();
}

FIXTURE_TEARDOWN(ioasid_attached_unlimited)
{
	ioasid_fixture_teardown();
}

TEST_F(ioasid, ids_are_never_zero_and_destroy_frees_them)
{
	uint32_t ids[8];
	int i;

	for (i = 0; i != 8; i++) {
		test_alloc(&ids[i]);
		EXPECT_NE(0, ids[i]);
		EXPECT_NE(self->ioasid, ids[i]);
	}
	for (i = 0; i != 8; i++)
		test_destroy(ids[i]);
	for (i = 0; i != 8; i++)
		test_err_destroy(ENOENT, ids[i]);
	test_err_destroy(ENOENT, 0);
}

TEST_F(ioasid, ioctls_on_a_missing_ioasid_are_enoent)
{
	uint64_t iova = MIB;
	uint32_t num = 0;

	EXPECT_ERRNO(ENOENT, _test_map(self->fd, 0, self->buf, PAGE, &iova,
				       MAP_FIXED_RW));
	EXPECT_ERRNO(ENOENT, _test_unmap(self->fd, self->ioasid + 100, 0, 0,
					 IOASID_UNMAP_ALL, NULL));
	EXPECT_ERRNO(ENOENT, _test_iova_ranges(self->fd, self->ioasid + 100,
					       NULL, &num, NULL));
	/* A device ID is not an IOASID ID */
	if (variant->ndevs)
		EXPECT_ERRNO(ENOENT, _test_map(self->fd, self->dev[0],
					       self->buf, PAGE, &iova,
					       MAP_FIXED_RW));
}

TEST_F(ioasid, map_translates_to_the_user_pages_in_every_domain)
{
	test_map_fixed(self->ioasid, self->buf, 16 * PAGE, MIB);
	test_check_map(self->ioasid, MIB, self->buf, 16 * PAGE);
	test_pinned(self->buf, 16 * PAGE, 16);
	EXPECT_EQ(variant->ndevs, _test_domains(self->fd, self->ioasid));
	test_unmap(self->ioasid, MIB, 16 * PAGE);
	test_pinned(self->buf, 16 * PAGE, 0);
}

TEST_F(ioasid, map_overlapping_a_mapping_is_eexist)
{
	test_map_fixed(self->ioasid, self->buf, 4 * PAGE, MIB);
	/* Same range, the start, the end, a range containing it */
	test_err_map_fixed(EEXIST, self->ioasid, self->buf, 4 * PAGE, MIB);
	test_err_map_fixed(EEXIST, self->ioasid, self->buf, 2 * PAGE,
			   MIB - PAGE);
	test_err_map_fixed(EEXIST, self->ioasid, self->buf, 2 * PAGE,
			   MIB + 3 * PAGE);
	test_err_map_fixed(EEXIST, self->ioasid, self->buf, 8 * PAGE,
			   MIB - 2 * PAGE);
	/* Adjacent on both sides is fine */
	test_map_fixed(self->ioasid, self->buf, PAGE, MIB - PAGE);
	test_map_fixed(self->ioasid, self->buf, PAGE, MIB + 4 * PAGE);
	/* The refused maps pinned nothing more of the first 4 pages */
	test_pinned(self->buf, 4 * PAGE, 4);
}

TEST_F(ioasid, map_refuses_misalignment_emptiness_and_no_permission)
{
	uint64_t iova = MIB;

	test_err_map_fixed(EINVAL, self->ioasid, self->buf + 1, PAGE, MIB);
	test_err_map_fixed(EINVAL, self->ioasid, self->buf, PAGE - 1, MIB);
	test_err_map_fixed(EINVAL, self->ioasid, self->buf, PAGE, MIB + 1);
	test_err_map_fixed(EINVAL, self->ioasid, self->buf, 0, MIB);
	EXPECT_ERRNO(EINVAL, _test_map(self->fd, self->ioasid, self->buf, PAGE,
				       &iova, IOASID_MAP_FIXED_IOVA));
	test_pinned(self->buf, PAGE, 0);
	/* Unmapped user memory */
	test_err_map_fixed(EFAULT, self->ioasid, (void *)PAGE, PAGE, MIB);
}

TEST_F(ioasid, map_checks_iova_overflow_near_u64_max)
{
	uint64_t top = UINT64_MAX - PAGE + 1;

	test_err_map_fixed(EOVERFLOW, self->ioasid, self->buf, 2 * PAGE, top);
	test_err_map_fixed(EOVERFLOW, self->ioasid, self->buf, 3 * PAGE,
			   top - PAGE);
	if (variant->ndevs) {
		/* Beyond every mock aperture */
		test_err_map_fixed(ERANGE, self->ioasid, self->buf, PAGE, top);
		return;
	}
	/* Without devices the last page of the 64-bit space is usable */
	test_map_fixed(self->ioasid, self->buf, PAGE, top);
	test_err_unmap(EOVERFLOW, self->ioasid, top, 2 * PAGE);
	test_unmap(self->ioasid, top, PAGE);
}

TEST_F(ioasid_attached, map_stays_out_of_reserved_regions)
{
	test_err_map_fixed(ERANGE, self->ioasid, self->buf, PAGE,
			   IOASID_MOCK_A_RESV_START);
	test_err_map_fixed(ERANGE, self->ioasid, self->buf, 2 * PAGE,
			   IOASID_MOCK_A_RESV_START - PAGE);
	test_err_map_fixed(ERANGE, self->ioasid, self->buf, PAGE,
			   IOASID_MOCK_A_RESV_LAST + 1 - PAGE);
	test_map_fixed(self->ioasid, self->buf, PAGE,
		       IOASID_MOCK_A_RESV_LAST + 1);
	test_pinned(self->buf, PAGE, 1);
}

TEST_F(ioasid, map_without_fixed_iova_chooses_a_free_aligned_iova)
{
	uint64_t a = 0, b = 0;

	ASSERT_EQ(0, _test_map(self->fd, self->ioasid, self->buf, 8 * PAGE,
			       &a, MAP_RW));
	ASSERT_EQ(0, _test_map(self->fd, self->ioasid, self->buf, 8 * PAGE,
			       &b, MAP_RW));
	EXPECT_EQ(0, a % PAGE);
	EXPECT_EQ(0, b % PAGE);
	EXPECT_TRUE(a + 8 * PAGE <= b || b + 8 * PAGE <= a);
	test_check_map(self->ioasid, a, self->buf, 8 * PAGE);
	test_check_map(self->ioasid, b, self->buf, 8 * PAGE);
	test_unmap(self->ioasid, a, 8 * PAGE);
	test_unmap(self->ioasid, b, 8 * PAGE);
}

TEST_F(ioasid, unmap_refuses_to_split_a_mapping)
{
	uint64_t unmapped;

	test_map_fixed(self->ioasid, self->buf, 4 * PAGE, MIB);
	test_err_unmap(EINVAL, self->ioasid, MIB, PAGE);
	test_err_unmap(EINVAL, self->ioasid, MIB + PAGE, 3 * PAGE);
	test_err_unmap(EINVAL, self->ioasid, MIB - PAGE, 2 * PAGE);
	/* Nothing changed */
	test_check_map(self->ioasid, MIB, self->buf, 4 * PAGE);
	test_pinned(self->buf, 4 * PAGE, 4);
	/* A range larger than the mapping on both sides is fine */
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, MIB - PAGE, 6 * PAGE,
				 0, &unmapped));
	EXPECT_EQ(4 * PAGE, unmapped);
}

TEST_F(ioasid, unmap_covering_several_mappings_reports_their_length)
{
	uint64_t unmapped;

	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	test_map_fixed(self->ioasid, self->buf + PAGE, 2 * PAGE, MIB + 4 * PAGE);
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, MIB, 8 * PAGE, 0,
				 &unmapped));
	EXPECT_EQ(3 * PAGE, unmapped);
	test_err_unmap(ENOENT, self->ioasid, MIB, 8 * PAGE);
}

TEST_F(ioasid, unmap_all_empties_the_ioasid)
{
	uint64_t unmapped = 1;
	int i;

	for (i = 0; i != 4; i++)
		test_map_fixed(self->ioasid, self->buf + i * PAGE, PAGE,
			       MIB + i * 2 * PAGE);
	EXPECT_ERRNO(EINVAL, _test_unmap(self->fd, self->ioasid, MIB, PAGE,
					 IOASID_UNMAP_ALL, NULL));
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, 0, 0,
				 IOASID_UNMAP_ALL, &unmapped));
	EXPECT_EQ(4 * PAGE, unmapped);
	test_pinned(self->buf, 4 * PAGE, 0);
	/* Emptying an empty IOASID is not an error */
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, 0, 0,
				 IOASID_UNMAP_ALL, &unmapped));
	EXPECT_EQ(0, unmapped);
}

TEST_F(ioasid, unmap_refuses_misalignment_and_overflow)
{
	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	test_err_unmap(EINVAL, self->ioasid, MIB + 1, PAGE);
	test_err_unmap(EINVAL, self->ioasid, MIB, PAGE + 1);
	test_err_unmap(EINVAL, self->ioasid, MIB, 0);
	test_err_unmap(EOVERFLOW, self->ioasid, UINT64_MAX - PAGE + 1,
		       2 * PAGE);
	test_pinned(self->buf, PAGE, 1);
}

/* What IOASID_IOVA_RANGES must say for each variant */
static const struct ioasid_iova_range no_device_ranges[] = {
	{ 0, UINT64_MAX },
};

static const struct ioasid_iova_range mock_a_ranges[] = {
	{ 0, IOASID_MOCK_A_RESV_START - 1 },
	{ IOASID_MOCK_A_RESV_LAST + 1, IOASID_MOCK_A_LAST },
};

static const struct ioasid_iova_range mock_a_b_ranges[] = {
	{ 0, IOASID_MOCK_A_RESV_START - 1 },
	{ IOASID_MOCK_A_RESV_LAST + 1, IOASID_MOCK_B_RESV_START - 1 },
	{ IOASID_MOCK_B_RESV_LAST + 1, IOASID_MOCK_B_LAST },
};

TEST_F(ioasid, iova_ranges_are_the_apertures_minus_reserved_regions)
{
	const struct ioasid_iova_range *want = no_device_ranges;
	struct ioasid_iova_range got[4] = {};
	uint32_t nwant = 1, num = 0, i;
	uint64_t align;

	if (variant->ndevs == 1) {
		want = mock_a_ranges;
		nwant = 2;
	} else if (variant->ndevs == 2) {
		want = mock_a_b_ranges;
		nwant = 3;
	}

	/* Asking with no room says how many */
	EXPECT_ERRNO(EMSGSIZE, _test_iova_ranges(self->fd, self->ioasid, NULL,
						 &num, NULL));
	EXPECT_EQ(nwant, num);
	/* Too little room: filled what fits, still the total */
	if (nwant > 1) {
		num = 1;
		EXPECT_ERRNO(EMSGSIZE, _test_iova_ranges(self->fd, self->ioasid,
							 got, &num, NULL));
		EXPECT_EQ(nwant, num);
		EXPECT_EQ(want[0].start, got[0].start);
		EXPECT_EQ(want[0].last, got[0].last);
		EXPECT_EQ(0, got[1].last);
	}
	num = 4;
	ASSERT_EQ(0, _test_iova_ranges(self->fd, self->ioasid, got, &num,
				       &align));
	ASSERT_EQ(nwant, num);
	EXPECT_EQ(PAGE, align);
	for (i = 0; i != nwant; i++) {
		EXPECT_EQ(want[i].start, got[i].start);
		EXPECT_EQ(want[i].last, got[i].last);
	}

	/* They change as devices go */
	for (i = 0; i != (uint32_t)variant->ndevs; i++)
		test_detach(self->dev[i]);
	num = 4;
	ASSERT_EQ(0, _test_iova_ranges(self->fd, self->ioasid, got, &num,
				       NULL));
	ASSERT_EQ(1, num);
	EXPECT_EQ(0, got[0].start);
	EXPECT_EQ(UINT64_MAX, got[0].last);
}

/*
 * The batching promise: one UNMAP of 1024 separate mappings costs one
 * IOTLB flush per I/O page table, and the pages are still pinned when
 * that flush comes, and unpinned when UNMAP returns.
 */
TEST_F(ioasid_attached_unlimited, unmap_of_1024_mappings_flushes_once_per_domain)
{
	struct ioasid_test_cmd stats;
	uint64_t unmapped;
	int i, d;

	for (i = 0; i != 1024; i++)
		test_map_fixed(self->ioasid, self->buf + i * PAGE, PAGE,
			       MIB * 16 + i * PAGE);
	test_pinned(self->buf, 1024 * PAGE, 1024);
	for (d = 0; d != variant->ndevs; d++) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], true,
						&stats));
		/* Each mapping went into the domain: no flush needed for that */
		EXPECT_EQ(1024, stats.domain_stats.out_maps);
		EXPECT_EQ(0, stats.domain_stats.out_flushes);
	}

	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, MIB * 16, 1024 * PAGE,
				 0, &unmapped));
	EXPECT_EQ(1024 * PAGE, unmapped);

	for (d = 0; d != variant->ndevs; d++) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], false,
						&stats));
		EXPECT_EQ(1024, stats.domain_stats.out_unmaps);
		EXPECT_EQ(1, stats.domain_stats.out_flushes);
		/* Every page was still pinned when its flush came */
		EXPECT_EQ(0, stats.domain_stats.out_late_unpins);
	}
	/* ...and none is pinned now */
	test_pinned(self->buf, 1024 * PAGE, 0);
}

TEST_F(ioasid_attached, dma_reaches_memory_until_unmap)
{
	char data[64], back[64];
	int d;

	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);

	memset(data, 0xc3, sizeof(data));
	test_dma_write(self->dev[0], MIB + PAGE - 32, data, sizeof(data));
	EXPECT_EQ(0, memcmp(self->buf + PAGE - 32, data, sizeof(data)));
	memcpy(self->buf + 100, "ioasid", 7);
	test_dma_read(self->dev[0], MIB + 100, back, 7);
	EXPECT_EQ(0, memcmp(back, "ioasid", 7));
	if (variant->ndevs == 2) {
		test_dma_read(self->dev[1], MIB + 100, back, 7);
		EXPECT_EQ(0, memcmp(back, "ioasid", 7));
	}

	test_unmap(self->ioasid, MIB, 2 * PAGE);
	memset(self->buf, 0, PAGE);
	for (d = 0; d != variant->ndevs; d++) {
		test_err_dma(ENXIO, self->dev[d], MIB, data, sizeof(data),
			     true);
		test_err_dma(ENXIO, self->dev[d], MIB, back, sizeof(back),
			     false);
	}
	/* The failed write did not reach the page */
	EXPECT_EQ(0, self->buf[0]);
}

/*
 * A device's IOTLB may keep any translation it ever had until an
 * invalidation covers it. When UNMAP returns, every way of unmapping
 * must have invalidated what it removed, on a driver that takes a
 * queued gather (mock A, as SMMUv3 and VT-d) and on one that does not
 * (mock B): the mock IOTLB keeps every removed entry until then, and a
 * DMA through one to an unpinned page fails with ESTALE.
 */
TEST_F(ioasid_attached, no_dma_reaches_a_page_after_its_unmap_returns)
{
	struct ioasid_test_cmd stats;
	char data[64];
	int d, i;

	memset(data, 0xe7, sizeof(data));
	memset(self->buf, 0, 8 * PAGE);
	/* Four mappings of two pages with a hole after each: disjoint */
	for (i = 0; i != 4; i++)
		test_map_fixed(self->ioasid, self->buf + 2 * i * PAGE,
			       2 * PAGE, MIB + 4 * i * PAGE);
	for (d = 0; d != variant->ndevs; d++) {
		for (i = 0; i != 4; i++)
			test_dma_read(self->dev[d], MIB + 4 * i * PAGE + PAGE,
				      data, sizeof(data));
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], true,
						&stats));
	}

	/* One UNMAP over all four */
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, MIB, 16 * PAGE, 0,
				 NULL));
	for (d = 0; d != variant->ndevs; d++) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], true,
						&stats));
		EXPECT_EQ(mock_unmap_flushes(d, 4),
			  stats.domain_stats.out_flushes);
		EXPECT_EQ(0, stats.domain_stats.out_late_unpins);
		for (i = 0; i != 4; i++)
			test_err_dma(ENXIO, self->dev[d],
				     MIB + 4 * i * PAGE + PAGE, data,
				     sizeof(data), true);
	}

	/* UNMAP_ASYNC, once its completion has come */
	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	test_async_hold(true);
	test_unmap_async(self->ioasid, MIB, 2 * PAGE, 1);
	test_async_hold(false);
	test_pinned(self->buf, 2 * PAGE, 0);
	for (d = 0; d != variant->ndevs; d++)
		test_err_dma(ENXIO, self->dev[d], MIB, data, sizeof(data),
			     true);

	/* Everything, by UNMAP of the whole IOVA space */
	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	test_map_fixed(self->ioasid, self->buf + 4 * PAGE, 2 * PAGE, 8 * MIB);
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, 0, 0,
				 IOASID_UNMAP_ALL, NULL));
	for (d = 0; d != variant->ndevs; d++) {
		test_err_dma(ENXIO, self->dev[d], MIB, data, sizeof(data),
			     true);
		test_err_dma(ENXIO, self->dev[d], 8 * MIB, data, sizeof(data),
			     true);
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], false,
						&stats));
		EXPECT_EQ(0, stats.domain_stats.out_late_unpins);
	}
	/* No DMA wrote anything after its unmap */
	for (i = 0; i != 8 * (int)PAGE; i++)
		ASSERT_EQ(0, self->buf[i]);
}

/*
 * An UNMAP whose structure cannot be written back fails with EFAULT,
 * and must then have changed nothing: not unmapped, not unpinned.
 */
TEST_F(ioasid_attached, an_unmap_whose_reply_cannot_be_written_changes_nothing)
{
	uint32_t flags[] = { 0, IOASID_UNMAP_ASYNC, IOASID_UNMAP_ALL };
	struct ioasid_unmap *cmd;
	unsigned int i;

	cmd = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cmd);
	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	for (i = 0; i != ARRAY_SIZE(flags); i++) {
		ASSERT_EQ(0, mprotect(cmd, PAGE, PROT_READ | PROT_WRITE));
		*cmd = (struct ioasid_unmap){
			.size = sizeof(*cmd),
			.flags = flags[i],
			.ioasid = self->ioasid,
			.iova = flags[i] & IOASID_UNMAP_ALL ? 0 : MIB,
			.length = flags[i] & IOASID_UNMAP_ALL ? 0 : 2 * PAGE,
		};
		ASSERT_EQ(0, mprotect(cmd, PAGE, PROT_READ));
		EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOASID_UNMAP, cmd));
		EXPECT_EQ(1, _test_mappings(self->fd, self->ioasid));
		test_pinned(self->buf, 2 * PAGE, 2);
		test_check_map(self->ioasid, MIB, self->buf, 2 * PAGE);
	}
	munmap(cmd, PAGE);
}

TEST_F(ioasid_attached, dma_respects_map_permissions)
{
	uint64_t ro = MIB, wo = 2 * MIB;
	char data[16] = "permission";

	ASSERT_EQ(0, _test_map(self->fd, self->ioasid, self->buf, PAGE, &ro,
			       IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	ASSERT_EQ(0, _test_map(self->fd, self->ioasid, self->buf + PAGE, PAGE,
			       &wo, IOASID_MAP_FIXED_IOVA | IOASID_MAP_WRITE));
	test_dma_read(self->dev[0], ro, data, sizeof(data));
	test_err_dma(EPERM, self->dev[0], ro, data, sizeof(data), true);
	test_dma_write(self->dev[0], wo, data, sizeof(data));
	test_err_dma(EPERM, self->dev[0], wo, data, sizeof(data), false);
}

TEST_F(ioasid, late_attach_fills_the_new_domain)
{
	char back[8];
	uint32_t dev;

	test_map_fixed(self->ioasid, self->buf, 8 * PAGE, MIB);
	memcpy(self->buf + 3 * PAGE, "late", sizeof("late"));

	/* A device on mock IOMMU B: it cannot share A's domain */
	test_mock_device(IOASID_MOCK_IOMMU_B, &dev);
	EXPECT_ERRNO(ENXIO, _test_dma(self->fd, dev, MIB, back, 5, false));
	test_attach(dev, self->ioasid, 0xbeef);
	test_check_map(self->ioasid, MIB, self->buf, 8 * PAGE);
	test_dma_read(dev, MIB + 3 * PAGE, back, 5);
	EXPECT_EQ(0, strcmp(back, "late"));
	/* Joining an existing domain, or not, per IOMMU */
	EXPECT_EQ(variant->ndevs == 2 ? 2 : variant->ndevs + 1,
		  _test_domains(self->fd, self->ioasid));
}

TEST_F(ioasid_attached, detach_blocks_dma_and_frees_the_domain)
{
	char back[8];
	int i;

	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	for (i = 0; i != variant->ndevs; i++) {
		test_dma_read(self->dev[i], MIB, back, sizeof(back));
		test_detach(self->dev[i]);
		EXPECT_ERRNO(ENXIO, _test_dma(self->fd, self->dev[i], MIB, back,
					      sizeof(back), false));
		EXPECT_EQ(variant->ndevs - i - 1,
			  _test_domains(self->fd, self->ioasid));
	}
	test_err_detach(ENOENT, self->dev[0]);
	/* The mapping itself stays */
	test_pinned(self->buf, PAGE, 1);
}

TEST_F(ioasid_attached, attach_to_another_ioasid_replaces_the_page_table)
{
	uint32_t other;
	char back[8];

	test_alloc(&other);
	memcpy(self->buf, "first", sizeof("first"));
	memcpy(self->buf + PAGE, "second", sizeof("second"));
	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	test_map_fixed(other, self->buf + PAGE, PAGE, MIB);

	test_dma_read(self->dev[0], MIB, back, 6);
	EXPECT_EQ(0, strcmp(back, "first"));
	test_attach(self->dev[0], other, MOCK_LABEL(0));
	test_dma_read(self->dev[0], MIB, back, 7);
	EXPECT_EQ(0, strcmp(back, "second"));
	EXPECT_EQ(1, _test_domains(self->fd, other));
	EXPECT_EQ(variant->ndevs - 1, _test_domains(self->fd, self->ioasid));
	/* The old IOASID is free to go, the new one is held */
	if (variant->ndevs == 1)
		test_destroy(self->ioasid);
	test_err_destroy(EBUSY, other);
}

TEST_F(ioasid_attached, attach_refuses_a_label_in_use)
{
	uint32_t dev;

	test_mock_device(IOASID_MOCK_IOMMU_A, &dev);
	test_err_attach(EEXIST, dev, self->ioasid, MOCK_LABEL(0));
	test_attach(dev, self->ioasid, MOCK_LABEL(9));
	/* Re-attaching with its own label, or a new one, is fine */
	test_attach(self->dev[0], self->ioasid, MOCK_LABEL(0));
	test_attach(self->dev[0], self->ioasid, MOCK_LABEL(7));
	test_attach(dev, self->ioasid, MOCK_LABEL(0));
}

/*
 * A detached device keeps its label: its parked group still reports its
 * faults under it, so no other device may take it until it is attached
 * under another one or unbound. 0 is "no device" in events: refused.
 */
TEST_F(ioasid_attached, a_detached_device_keeps_its_label_from_others)
{
	uint32_t dev;

	test_mock_device(IOASID_MOCK_IOMMU_A, &dev);
	test_err_attach(EINVAL, dev, self->ioasid, 0);
	test_err_attach(EINVAL, self->dev[0], self->ioasid, 0);

	test_detach(self->dev[0]);
	test_err_attach(EEXIST, dev, self->ioasid, MOCK_LABEL(0));
	test_attach(self->dev[0], self->ioasid, MOCK_LABEL(5));
	test_attach(dev, self->ioasid, MOCK_LABEL(0));
	test_detach(dev);

	/* Unbinding (destroying the mock device) frees it */
	test_destroy(dev);
	test_attach(self->dev[0], self->ioasid, MOCK_LABEL(0));
}

TEST_F(ioasid, attach_refuses_a_device_that_reserves_a_mapped_iova)
{
	uint32_t ioasid, dev;

	test_alloc(&ioasid);
	test_map_fixed(ioasid, self->buf, PAGE, IOASID_MOCK_A_RESV_START);
	test_mock_device(IOASID_MOCK_IOMMU_A, &dev);
	test_err_attach(EADDRINUSE, dev, ioasid, 0x51);
	EXPECT_EQ(0, _test_domains(self->fd, ioasid));
	test_unmap(ioasid, IOASID_MOCK_A_RESV_START, PAGE);
	test_attach(dev, ioasid, 0x51);
}

TEST_F(ioasid, attach_refuses_a_device_that_cannot_reach_a_mapped_iova)
{
	uint32_t ioasid, dev;

	test_alloc(&ioasid);
	test_map_fixed(ioasid, self->buf, PAGE, IOASID_MOCK_B_LAST + 1);
	test_mock_device(IOASID_MOCK_IOMMU_B, &dev);
	test_err_attach(EADDRINUSE, dev, ioasid, 0x52);
	EXPECT_EQ(0, _test_domains(self->fd, ioasid));
}

TEST_F(ioasid_attached, destroy_of_an_ioasid_in_use_is_ebusy)
{
	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	test_err_destroy(EBUSY, self->ioasid);
	test_destroy(self->dev[0]);
	if (variant->ndevs == 2)
		test_destroy(self->dev[1]);
	/* Destroying the devices detached them; the mapping goes too */
	test_destroy(self->ioasid);
	test_pinned(self->buf, PAGE, 0);
}

struct busy_call {
	int fd;
	uint32_t id;
	pid_t tid;
	int rc;
	int err;
	bool destroy;
};

static void *busy_call_thread(void *arg)
{
	struct busy_call *call = arg;
	struct ioasid_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOASID_TEST_OP_BUSY,
		.id = call->id,
	};

	call->tid = syscall(SYS_gettid);
	if (call->destroy)
		call->rc = _test_destroy(call->fd, call->id);
	else
		call->rc = ioctl(call->fd, IOASID_TEST, &cmd);
	call->err = errno;
	return NULL;
}

static void busy_call_wake(int sig)
{
}

/*
 * DESTROY while another call is using the object (a long MAP, say)
 * waits for that call to end and then destroys it: it is not EBUSY, which
 * only a dependent object (an attached device) causes.
 */
TEST_F(ioasid_fd, destroy_waits_for_the_calls_that_use_the_object)
{
	struct sigaction sa = { .sa_handler = busy_call_wake };
	struct busy_call busy = {}, destroy = {};
	pthread_t busy_thread, destroy_thread;
	uint32_t ioasid;

	/* No SA_RESTART: the busy call returns EINTR */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	test_alloc(&ioasid);
	busy = (struct busy_call){ .fd = self->fd, .id = ioasid };
	destroy = (struct busy_call){
		.fd = self->fd, .id = ioasid, .destroy = true,
	};

	ASSERT_EQ(0, pthread_create(&busy_thread, NULL, busy_call_thread,
				    &busy));
	while (!__atomic_load_n(&busy.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	ASSERT_TRUE(wait_task_sleeping(getpid(), busy.tid));

	ASSERT_EQ(0, pthread_create(&destroy_thread, NULL, busy_call_thread,
				    &destroy));
	while (!__atomic_load_n(&destroy.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	ASSERT_TRUE(wait_task_sleeping(getpid(), destroy.tid));
	/* While it waits, the object is gone for everyone else */
	test_err_destroy(ENOENT, ioasid);

	ASSERT_EQ(0, pthread_kill(busy_thread, SIGUSR1));
	ASSERT_EQ(0, pthread_join(busy_thread, NULL));
	ASSERT_EQ(0, pthread_join(destroy_thread, NULL));
	EXPECT_EQ(-1, busy.rc);
	EXPECT_EQ(EINTR, busy.err);
	EXPECT_EQ(0, destroy.rc);
	test_err_destroy(ENOENT, ioasid);
}

TEST_F(ioasid_attached_unlimited, huge_pages_map_with_huge_iommu_pages)
{
	struct ioasid_test_cmd stats;
	size_t len = 2 * MIB;
	void *huge;

	huge = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
		    -1, 0);
	if (huge == MAP_FAILED)
		SKIP(return, "no 2MiB huge page available");
	ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[0], true, &stats));
	test_map_fixed(self->ioasid, huge, len, 64 * MIB);
	test_check_map(self->ioasid, 64 * MIB, huge, len);
	ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[0], false, &stats));
	/* Mock IOMMU A has 2MiB pages: one call maps it all */
	EXPECT_EQ(1, stats.domain_stats.out_maps);
	EXPECT_EQ(1, stats.domain_stats.out_huge_maps);
	test_unmap(self->ioasid, 64 * MIB, len);
	munmap(huge, len);
}

TEST_F(ioasid_attached_unlimited, memlock_limit_is_enforced_and_a_refused_map_pins_nothing)
{
	int64_t before, limit = SMALL_MEMLOCK_PAGES;

	before = _test_locked(self->fd);
	ASSERT_LE(0, before);
	/* The limit counts the user's total, so leave room for others */
	ASSERT_EQ(0, _test_memlock_set(self->fd, before + limit));

	test_map_fixed(self->ioasid, self->buf, limit * PAGE, MIB);
	EXPECT_EQ(before + limit, _test_locked(self->fd));
	test_err_map_fixed(ENOMEM, self->ioasid, self->buf + limit * PAGE,
			   PAGE, MIB + limit * PAGE);
	EXPECT_EQ(before + limit, _test_locked(self->fd));
	test_pinned(self->buf + limit * PAGE, PAGE, 0);

	test_unmap(self->ioasid, MIB, limit * PAGE);
	EXPECT_EQ(before, _test_locked(self->fd));
	test_map_fixed(self->ioasid, self->buf, limit * PAGE, MIB);
}

TEST_F(ioasid, memlock_charge_is_released_on_close)
{
	int64_t before = _test_locked(self->fd);
	uint32_t ioasid;
	int fd;

	fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, fd);
	ASSERT_EQ(0, _test_alloc(fd, &ioasid));
	ASSERT_EQ(0, _test_map(fd, ioasid, self->buf, 8 * PAGE, NULL, MAP_RW));
	EXPECT_EQ(before + 8, _test_locked(self->fd));
	close(fd);
	EXPECT_EQ(before, _test_locked(self->fd));
	test_pinned(self->buf, 8 * PAGE, 0);
}

/* VmPin of /proc/self/status, in KiB, or -1 */
static int64_t vm_pin_kb(void)
{
	char line[128];
	long long kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %lld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

TEST_F(ioasid, pins_show_in_vmpin_until_unmapped)
{
	int64_t before = vm_pin_kb();

	ASSERT_LE(0, before);
	test_map_fixed(self->ioasid, self->buf, 8 * PAGE, MIB);
	EXPECT_EQ(before + 8 * PAGE / 1024, vm_pin_kb());
	test_unmap(self->ioasid, MIB, 8 * PAGE);
	EXPECT_EQ(before, vm_pin_kb());
}

TEST_F(ioasid, memlock_charge_is_released_on_exit)
{
	int64_t before = _test_locked(self->fd);
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_NE(-1, pid);
	if (!pid) {
		uint32_t ioasid;
		int fd = open(IOASID_DEV, O_RDWR);

		if (fd < 0 || _test_alloc(fd, &ioasid) ||
		    _test_map(fd, ioasid, self->buf, 8 * PAGE, NULL, MAP_RW) ||
		    _test_locked(fd) != before + 8)
			_exit(1);
		/* Exit with the fd open and the pages pinned */
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(before, _test_locked(self->fd));
}

/* Drop CAP_IPC_LOCK from the calling process (the tests run as root) */
static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].permitted &= ~(1U << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &hdr, data);
}

/*
 * Without the test op's limit, which replaces it, RLIMIT_MEMLOCK is the
 * limit, and CAP_IPC_LOCK lifts it. The child has a fd of its own: the
 * fixture is the plain fd.
 */
TEST_F(ioasid_fd, rlimit_memlock_binds_unless_cap_ipc_lock)
{
	int64_t before = _test_locked(self->fd), pins = foll_pins();
	struct rlimit rl;
	int status;
	char *buf;
	pid_t pid;

	ASSERT_LE(0, pins);
	buf = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, madvise(buf, 8 * PAGE, MADV_NOHUGEPAGE));
	memset(buf, 0x5a, 8 * PAGE);
	pid = fork();
	ASSERT_NE(-1, pid);
	if (!pid) {
		uint32_t ioasid;
		uint64_t iova = MIB;
		int fd = open(IOASID_DEV, O_RDWR);

		if (fd < 0 || _test_alloc(fd, &ioasid))
			_exit(1);
		/* With CAP_IPC_LOCK the rlimit does not bind */
		rl.rlim_cur = (before + 4) * PAGE;
		rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(2);
		if (_test_map(fd, ioasid, buf, 8 * PAGE, &iova, MAP_FIXED_RW))
			_exit(3);
		if (_test_unmap(fd, ioasid, 0, 0, IOASID_UNMAP_ALL, NULL))
			_exit(4);
		/* Without it, it does */
		if (drop_cap_ipc_lock())
			_exit(5);
		if (!_test_map(fd, ioasid, buf, 8 * PAGE, &iova, MAP_FIXED_RW) ||
		    errno != ENOMEM)
			_exit(6);
		if (_test_map(fd, ioasid, buf, 4 * PAGE, &iova, MAP_FIXED_RW))
			_exit(7);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(before, _test_locked(self->fd));
	/* The child's exit released its pins */
	munmap(buf, 8 * PAGE);
	EXPECT_EQ(pins, foll_pins());
}

/*
 * The test op's limit replaces RLIMIT_MEMLOCK for the fd: lowering it is
 * for anyone, raising it past the caller's own limit would let any user
 * of a test kernel pin without bound.
 */
TEST_F(ioasid_fd, only_cap_ipc_lock_raises_the_test_memlock_limit)
{
	struct rlimit rl = { .rlim_cur = 16 * PAGE, .rlim_max = 16 * PAGE };
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_NE(-1, pid);
	if (!pid) {
		int fd = open(IOASID_DEV, O_RDWR);

		if (fd < 0 || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(1);
		if (drop_cap_ipc_lock())
			_exit(2);
		if (_test_memlock_set(fd, 8))
			_exit(3);
		if (!_test_memlock_set(fd, 1 << 20) || errno != EPERM)
			_exit(4);
		if (_test_memlock_set(fd, 0))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * fork() shares the fd, not the pinned memory: the child gets its own
 * copy of the pages (FOLL_LONGTERM pins are copied eagerly), so what it
 * writes never reaches a device, and its exit releases no pin.
 */
TEST_F(ioasid_attached, fork_keeps_the_pins_with_the_parent)
{
	char back[16];
	int status;
	pid_t pid;

	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	memcpy(self->buf, "parent", sizeof("parent"));

	pid = fork();
	ASSERT_NE(-1, pid);
	if (!pid) {
		memcpy(self->buf, "child", sizeof("child"));
		/* The device sees the parent's page, not ours */
		if (_test_dma(self->fd, self->dev[0], MIB, back, 7, false) ||
		    strcmp(back, "parent"))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	test_pinned(self->buf, PAGE, 1);
	test_dma_read(self->dev[0], MIB, back, 7);
	EXPECT_EQ(0, strcmp(back, "parent"));
	test_check_map(self->ioasid, MIB, self->buf, PAGE);
}

TEST_HARNESS_MAIN
