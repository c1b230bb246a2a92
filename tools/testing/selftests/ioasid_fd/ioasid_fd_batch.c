// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOASID_BATCH, the one-sync MAP and the million-mapping path, on the
 * mock IOMMU. The mock gathers unmapped ranges as VT-d does (a range
 * disjoint from the gathered one is flushed first unless the gather is
 * queued) and counts map syncs, which a caching-mode VT-d turns into
 * invalidations: its counters are the flush counts real hardware gets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "ioasid_fd_utils.h"

#define PAGE 4096UL
#define NPAGES 1024UL
#define BUF_SIZE (NPAGES * PAGE)
/* Fixed IOVAs of the tests: every other page, so no two are adjacent */
#define IOVA_BASE 0x100000000UL
#define IOVA_OF(i) (IOVA_BASE + 2 * (i) * PAGE)
#define LABEL(i) (0xba7c0000ULL + (i))

static int _test_batch(int fd, void *ops, uint32_t num_ops, uint32_t op_size,
		       uint32_t *done)
{
	struct ioasid_batch cmd = {
		.size = sizeof(cmd),
		.num_ops = num_ops,
		.op_size = op_size,
		.ops = (uintptr_t)ops,
	};
	int rc;

	rc = ioctl(fd, IOASID_BATCH, &cmd);
	if (done)
		*done = cmd.out_done;
	return rc;
}

#define test_batch(ops, n)                                                    \
	({                                                                    \
		uint32_t __done;                                              \
		ASSERT_EQ(0, _test_batch(self->fd, ops, n, sizeof(*(ops)),    \
					 &__done));                           \
		ASSERT_EQ(n, __done);                                         \
	})

static void op_map(struct ioasid_batch_op *op, uint32_t ioasid, void *va,
		   uint64_t length, uint64_t iova, bool fixed)
{
	memset(op, 0, sizeof(*op));
	op->op = IOASID_BATCH_MAP;
	op->flags = fixed ? MAP_FIXED_RW : MAP_RW;
	op->ioasid = ioasid;
	op->user_va = (uintptr_t)va;
	op->length = length;
	op->iova = iova;
}

static void op_unmap(struct ioasid_batch_op *op, uint32_t ioasid,
		     uint64_t iova, uint64_t length)
{
	memset(op, 0, sizeof(*op));
	op->op = IOASID_BATCH_UNMAP;
	op->ioasid = ioasid;
	op->iova = iova;
	op->length = length;
}

FIXTURE(batch)
{
	int fd;
	uint32_t ioasid;
	uint32_t dev[2];
	char *buf;
	struct ioasid_batch_op *ops;
	int64_t pins_at_setup;
};

FIXTURE_VARIANT(batch)
{
	int ndevs;
};

FIXTURE_VARIANT_ADD(batch, one_mock_device)
{
	.ndevs = 1,
};

/* Two I/O page tables: every count is per table */
FIXTURE_VARIANT_ADD(batch, two_mock_iommus)
{
	.ndevs = 2,
};

FIXTURE_SETUP(batch)
{
	int i;

	self->pins_at_setup = foll_pins();
	ASSERT_LE(0, self->pins_at_setup);
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
	test_alloc(&self->ioasid);
	for (i = 0; i != variant->ndevs; i++) {
		test_mock_device(i, &self->dev[i]);
		test_attach(self->dev[i], self->ioasid, LABEL(i));
	}
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, madvise(self->buf, BUF_SIZE, MADV_NOHUGEPAGE));
	for (i = 0; i != (int)NPAGES; i++)
		memset(self->buf + i * PAGE, i, PAGE);
	self->ops = calloc(NPAGES, sizeof(*self->ops));
	ASSERT_NE(NULL, self->ops);
}

FIXTURE_TEARDOWN(batch)
{
	close(self->fd);
	munmap(self->buf, BUF_SIZE);
	free(self->ops);
	EXPECT_EQ(self->pins_at_setup, foll_pins());
}

/* Reset, or read, every device's mock counters */
#define for_each_dev(i) for (i = 0; i != variant->ndevs; i++)

static void reset_stats(struct __test_metadata *_metadata, int fd,
			const uint32_t *dev, int ndevs)
{
	struct ioasid_test_cmd stats;
	int i;

	for (i = 0; i != ndevs; i++)
		ASSERT_EQ(0, _test_domain_stats(fd, dev[i], true, &stats));
}

/* Map page i of the buffer at IOVA_OF(i), for i < n, in one batch */
static void map_pages_batch(struct __test_metadata *_metadata, int fd,
			    uint32_t ioasid, char *buf,
			    struct ioasid_batch_op *ops, uint32_t n)
{
	uint32_t i, done;

	for (i = 0; i != n; i++)
		op_map(&ops[i], ioasid, buf + i * PAGE, PAGE, IOVA_OF(i), true);
	ASSERT_EQ(0, _test_batch(fd, ops, n, sizeof(*ops), &done));
	ASSERT_EQ(n, done);
}

TEST_F(batch, batch_follows_the_size_rules)
{
	TEST_LENGTH(ioasid_batch, IOASID_BATCH, __reserved);
}

TEST_F(batch, batch_refuses_a_bad_header)
{
	struct ioasid_batch cmd = {
		.size = sizeof(cmd),
		.num_ops = 1,
		.op_size = sizeof(*self->ops),
		.ops = (uintptr_t)self->ops,
	};

	op_map(&self->ops[0], self->ioasid, self->buf, PAGE, IOVA_OF(0), true);
	cmd.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_BATCH, &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_BATCH, &cmd));
	cmd.__reserved = 0;
	cmd.num_ops = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOASID_BATCH, &cmd));
	cmd.num_ops = IOASID_BATCH_MAX_OPS + 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOASID_BATCH, &cmd));
	cmd.num_ops = 1;
	cmd.op_size = offsetofend(struct ioasid_batch_op, out_length) - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOASID_BATCH, &cmd));
	/* Nothing was done by any of them */
	EXPECT_EQ(0, _test_mappings(self->fd, self->ioasid));
}

TEST_F(batch, ops_follow_the_size_rules)
{
	struct {
		struct ioasid_batch_op op;
		uint64_t extra;
	} big[2];
	uint32_t done;

	memset(big, 0, sizeof(big));
	op_map(&big[0].op, self->ioasid, self->buf, PAGE, IOVA_OF(0), true);
	op_map(&big[1].op, self->ioasid, self->buf + PAGE, PAGE, IOVA_OF(1),
	       true);
	/* An unknown, non-zero tail: E2BIG at that op, the ones before done */
	big[1].extra = 1;
	EXPECT_ERRNO(E2BIG, _test_batch(self->fd, big, 2, sizeof(big[0]),
					&done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(1, _test_mappings(self->fd, self->ioasid));
	/* A zero tail is the same as the exact size */
	big[1].extra = 0;
	ASSERT_EQ(0, _test_batch(self->fd, &big[1], 1, sizeof(big[1]), &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(2, _test_mappings(self->fd, self->ioasid));
	/* Output is written back within op_size, never past it */
	EXPECT_EQ(0, big[1].extra);
}

TEST_F(batch, unknown_ops_flags_and_reserved_are_refused)
{
	uint32_t done;

	op_map(&self->ops[0], self->ioasid, self->buf, PAGE, IOVA_OF(0), true);
	self->ops[0].op = 99;
	EXPECT_ERRNO(EOPNOTSUPP, _test_batch(self->fd, self->ops, 1,
					     sizeof(*self->ops), &done));
	EXPECT_EQ(0, done);
	op_map(&self->ops[0], self->ioasid, self->buf, PAGE, IOVA_OF(0), true);
	self->ops[0].__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, _test_batch(self->fd, self->ops, 1,
					     sizeof(*self->ops), &done));
	/* The batch flushes once anyway: an async unmap has no place in it */
	op_unmap(&self->ops[0], self->ioasid, IOVA_OF(0), PAGE);
	self->ops[0].flags = IOASID_UNMAP_ASYNC;
	EXPECT_ERRNO(EOPNOTSUPP, _test_batch(self->fd, self->ops, 1,
					     sizeof(*self->ops), &done));
	EXPECT_EQ(0, done);
}

TEST_F(batch, a_batch_of_maps_syncs_once_per_table)
{
	struct ioasid_test_cmd stats;
	uint32_t i;
	int d;

	reset_stats(_metadata, self->fd, self->dev, variant->ndevs);
	map_pages_batch(_metadata, self->fd, self->ioasid, self->buf,
			self->ops, NPAGES);
	for_each_dev(d) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], false,
						&stats));
		EXPECT_EQ(NPAGES, stats.domain_stats.out_maps);
		EXPECT_EQ(1, stats.domain_stats.out_map_syncs);
		EXPECT_EQ(0, stats.domain_stats.out_flushes);
	}
	for (i = 0; i != NPAGES; i++)
		test_check_map(self->ioasid, IOVA_OF(i), self->buf + i * PAGE,
			       PAGE);
	EXPECT_EQ(NPAGES, _test_mappings(self->fd, self->ioasid));
}

TEST_F(batch, a_batch_of_unmaps_flushes_once_per_table)
{
	struct ioasid_test_cmd stats;
	uint32_t i;
	int d;

	map_pages_batch(_metadata, self->fd, self->ioasid, self->buf,
			self->ops, NPAGES);
	reset_stats(_metadata, self->fd, self->dev, variant->ndevs);
	for (i = 0; i != NPAGES; i++)
		op_unmap(&self->ops[i], self->ioasid, IOVA_OF(i), PAGE);
	test_batch(self->ops, NPAGES);
	for (i = 0; i != NPAGES; i++)
		EXPECT_EQ(PAGE, self->ops[i].out_length);
	/* Disjoint ranges: one flush of all, or one each (mock B) */
	for_each_dev(d) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], false,
						&stats));
		EXPECT_EQ(mock_unmap_flushes(d, NPAGES),
			  stats.domain_stats.out_flushes);
		EXPECT_EQ(0, stats.domain_stats.out_late_unpins);
	}
	test_pinned(self->buf, BUF_SIZE, 0);
	EXPECT_EQ(0, _test_mappings(self->fd, self->ioasid));
}

TEST_F(batch, one_map_of_many_runs_syncs_once_per_table)
{
	struct ioasid_test_cmd stats;
	char *rev;
	uint32_t i;
	int d;

	/* Populated last page first: physically, mostly runs of one page */
	rev = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rev);
	ASSERT_EQ(0, madvise(rev, BUF_SIZE, MADV_NOHUGEPAGE));
	for (i = NPAGES; i--;)
		rev[i * PAGE] = i;
	reset_stats(_metadata, self->fd, self->dev, variant->ndevs);
	test_map_fixed(self->ioasid, rev, BUF_SIZE, IOVA_BASE);
	for_each_dev(d) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], false,
						&stats));
		EXPECT_LE(1, stats.domain_stats.out_maps);
		EXPECT_EQ(1, stats.domain_stats.out_map_syncs);
	}
	test_check_map(self->ioasid, IOVA_BASE, rev, BUF_SIZE);
	test_unmap(self->ioasid, IOVA_BASE, BUF_SIZE);
	munmap(rev, BUF_SIZE);
}

TEST_F(batch, a_failing_op_leaves_those_before_it_done)
{
	struct ioasid_test_cmd stats;
	uint32_t done;
	int d;

	reset_stats(_metadata, self->fd, self->dev, variant->ndevs);
	op_map(&self->ops[0], self->ioasid, self->buf, PAGE, IOVA_OF(0), true);
	op_map(&self->ops[1], self->ioasid, self->buf + PAGE, PAGE, IOVA_OF(1),
	       true);
	/* Overlaps op 0 */
	op_map(&self->ops[2], self->ioasid, self->buf + 2 * PAGE, PAGE,
	       IOVA_OF(0), true);
	op_map(&self->ops[3], self->ioasid, self->buf + 3 * PAGE, PAGE,
	       IOVA_OF(3), true);
	EXPECT_ERRNO(EEXIST, _test_batch(self->fd, self->ops, 4,
					 sizeof(*self->ops), &done));
	EXPECT_EQ(2, done);
	EXPECT_EQ(2, _test_mappings(self->fd, self->ioasid));
	test_check_map(self->ioasid, IOVA_OF(0), self->buf, PAGE);
	test_check_map(self->ioasid, IOVA_OF(1), self->buf + PAGE, PAGE);
	test_pinned(self->buf + 2 * PAGE, 2 * PAGE, 0);
	/* What was done was synced, once */
	for_each_dev(d) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], false,
						&stats));
		EXPECT_EQ(1, stats.domain_stats.out_map_syncs);
	}
}

/*
 * A MAP at a kernel-chosen IOVA whose reply cannot be written back is a
 * mapping nobody could find: the batch undoes it and does not count it.
 * A MAP at a fixed IOVA stays done and counted (the caller knows where
 * it is), and the call fails with EFAULT either way.
 */
TEST_F(batch, a_kernel_chosen_map_whose_reply_is_lost_is_undone)
{
	struct ioasid_batch_op *ops;
	char *two;
	uint32_t done;

	/* Op 0 ends the first page; op 1 starts the second, read-only */
	two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ops = (struct ioasid_batch_op *)(two + PAGE - sizeof(*ops));
	op_map(&ops[0], self->ioasid, self->buf, PAGE, IOVA_OF(0), true);
	op_map(&ops[1], self->ioasid, self->buf + PAGE, PAGE, 0, false);
	ASSERT_EQ(0, mprotect(two + PAGE, PAGE, PROT_READ));
	EXPECT_ERRNO(EFAULT, _test_batch(self->fd, ops, 2, sizeof(*ops),
					 &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(1, _test_mappings(self->fd, self->ioasid));
	test_pinned(self->buf, PAGE, 1);
	test_pinned(self->buf + PAGE, PAGE, 0);

	ASSERT_EQ(0, mprotect(two + PAGE, PAGE, PROT_READ | PROT_WRITE));
	op_map(&ops[0], self->ioasid, self->buf + 2 * PAGE, PAGE, IOVA_OF(2),
	       true);
	op_map(&ops[1], self->ioasid, self->buf + PAGE, PAGE, IOVA_OF(1),
	       true);
	ASSERT_EQ(0, mprotect(two + PAGE, PAGE, PROT_READ));
	EXPECT_ERRNO(EFAULT, _test_batch(self->fd, ops, 2, sizeof(*ops),
					 &done));
	EXPECT_EQ(2, done);
	EXPECT_EQ(3, _test_mappings(self->fd, self->ioasid));
	test_check_map(self->ioasid, IOVA_OF(1), self->buf + PAGE, PAGE);
	munmap(two, 2 * PAGE);
}

TEST_F(batch, a_map_after_an_unmap_of_the_same_range_waits_for_the_flush)
{
	struct ioasid_test_cmd stats;
	int d;

	test_map_fixed(self->ioasid, self->buf, PAGE, IOVA_OF(0));
	reset_stats(_metadata, self->fd, self->dev, variant->ndevs);
	op_unmap(&self->ops[0], self->ioasid, IOVA_OF(0), PAGE);
	op_map(&self->ops[1], self->ioasid, self->buf + PAGE, PAGE, IOVA_OF(0),
	       true);
	test_batch(self->ops, 2);
	test_check_map(self->ioasid, IOVA_OF(0), self->buf + PAGE, PAGE);
	test_pinned(self->buf, PAGE, 0);
	for_each_dev(d) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], false,
						&stats));
		EXPECT_EQ(1, stats.domain_stats.out_flushes);
		EXPECT_EQ(0, stats.domain_stats.out_late_unpins);
	}
}

TEST_F(batch, kernel_chosen_iovas_are_written_back)
{
	uint32_t i, j;

	for (i = 0; i != 16; i++)
		op_map(&self->ops[i], self->ioasid, self->buf + i * PAGE, PAGE,
		       0, false);
	test_batch(self->ops, 16);
	for (i = 0; i != 16; i++) {
		EXPECT_EQ(0, self->ops[i].iova % PAGE);
		for (j = 0; j != i; j++)
			EXPECT_NE(self->ops[j].iova, self->ops[i].iova);
		test_check_map(self->ioasid, self->ops[i].iova,
			       self->buf + i * PAGE, PAGE);
	}
}

TEST_F(batch, each_unmap_of_a_batch_is_reported_after_the_flush)
{
	struct ioasid_event ev;
	uint32_t eventq, i;
	int qfd;

	map_pages_batch(_metadata, self->fd, self->ioasid, self->buf,
			self->ops, 3);
	test_eventq_alloc(self->ioasid, 8,
			  IOASID_EVENT_MASK(IOASID_EVENT_INVAL),
			  IOASID_EVENTQ_NONBLOCK, &eventq, &qfd);
	for (i = 0; i != 3; i++)
		op_unmap(&self->ops[i], self->ioasid, IOVA_OF(i), PAGE);
	test_batch(self->ops, 3);
	/* All flushed before any is reported: the pages are free already */
	test_pinned(self->buf, 3 * PAGE, 0);
	for (i = 0; i != 3; i++) {
		test_read_event(qfd, &ev);
		EXPECT_EQ(IOASID_EVENT_INVAL, ev.type);
		EXPECT_EQ(IOASID_INVAL_UNMAP, ev.inval.cause);
		EXPECT_EQ(IOVA_OF(i), ev.inval.iova);
		EXPECT_EQ(IOVA_OF(i) + PAGE - 1, ev.inval.last);
	}
	test_no_event(qfd);
	close(qfd);
}

TEST_F(batch, ops_on_several_ioasids_flush_each_once)
{
	struct ioasid_test_cmd stats;
	uint32_t other, i;
	int d;

	/* A second IOASID with no device: its ops still work */
	test_alloc(&other);
	for (i = 0; i != 8; i++)
		op_map(&self->ops[i], i % 2 ? other : self->ioasid,
		       self->buf + i * PAGE, PAGE, IOVA_OF(i), true);
	test_batch(self->ops, 8);
	EXPECT_EQ(4, _test_mappings(self->fd, self->ioasid));
	EXPECT_EQ(4, _test_mappings(self->fd, other));
	reset_stats(_metadata, self->fd, self->dev, variant->ndevs);
	for (i = 0; i != 8; i++)
		op_unmap(&self->ops[i], i % 2 ? other : self->ioasid,
			 IOVA_OF(i), PAGE);
	test_batch(self->ops, 8);
	/* The devices' IOASID had 4 of the disjoint mappings */
	for_each_dev(d) {
		ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev[d], false,
						&stats));
		EXPECT_EQ(mock_unmap_flushes(d, 4),
			  stats.domain_stats.out_flushes);
	}
	test_pinned(self->buf, 8 * PAGE, 0);
}

/*
 * A million mappings in one IOASID, through batches, with IOVAs the
 * kernel chooses: no step may walk the existing mappings. 256 pages
 * back them all, each mapped 4096 times.
 */
#define SCALE_MAPPINGS 1048576UL
#define SCALE_PAGES 256UL
#define SCALE_BATCH 65536UL

FIXTURE(scale)
{
	int fd;
	uint32_t ioasid;
	uint32_t dev;
	char *buf;
	struct ioasid_batch_op *ops;
	int64_t pins_at_setup;
};

FIXTURE_SETUP(scale)
{
	uint64_t i;

	self->pins_at_setup = foll_pins();
	ASSERT_LE(0, self->pins_at_setup);
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
	test_alloc(&self->ioasid);
	test_mock_device(IOASID_MOCK_IOMMU_A, &self->dev);
	test_attach(self->dev, self->ioasid, LABEL(0));
	self->buf = mmap(NULL, SCALE_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, madvise(self->buf, SCALE_PAGES * PAGE, MADV_NOHUGEPAGE));
	for (i = 0; i != SCALE_PAGES; i++)
		self->buf[i * PAGE] = i;
	self->ops = calloc(SCALE_BATCH, sizeof(*self->ops));
	ASSERT_NE(NULL, self->ops);
}

FIXTURE_TEARDOWN(scale)
{
	close(self->fd);
	munmap(self->buf, SCALE_PAGES * PAGE);
	free(self->ops);
	EXPECT_EQ(self->pins_at_setup, foll_pins());
}

/*
 * The debug kernel (KASAN, kmemleak, lockdep) is there to find memory and
 * locking errors, which a sixteenth of the mappings find as well; a
 * million take it longer than the harness's timeout.
 */
static uint64_t scale_mappings(void)
{
	if (access("/sys/kernel/debug/kmemleak", F_OK))
		return SCALE_MAPPINGS;
	ksft_print_msg("debug kernel: %lu mappings instead of %lu\n",
		       SCALE_MAPPINGS / 16, SCALE_MAPPINGS);
	return SCALE_MAPPINGS / 16;
}

TEST_F_TIMEOUT(scale, a_million_mappings_map_check_and_unmap, 600)
{
	struct ioasid_unmap unmap = {
		.size = sizeof(unmap),
		.flags = IOASID_UNMAP_ALL,
	};
	uint64_t n, i, total = scale_mappings();

	for (n = 0; n != total; n += SCALE_BATCH) {
		for (i = 0; i != SCALE_BATCH; i++)
			op_map(&self->ops[i], self->ioasid,
			       self->buf + ((n + i) % SCALE_PAGES) * PAGE, PAGE,
			       0, false);
		test_batch(self->ops, SCALE_BATCH);
		/* A sample of each batch translates to its page */
		for (i = 0; i < SCALE_BATCH; i += 4099)
			test_check_map(self->ioasid, self->ops[i].iova,
				       self->buf + ((n + i) % SCALE_PAGES) *
				       PAGE, PAGE);
	}
	EXPECT_EQ(total, _test_mappings(self->fd, self->ioasid));

	unmap.ioasid = self->ioasid;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_UNMAP, &unmap));
	EXPECT_EQ(total * PAGE, unmap.out_length);
	EXPECT_EQ(0, _test_mappings(self->fd, self->ioasid));
	test_pinned(self->buf, SCALE_PAGES * PAGE, 0);
}

TEST_HARNESS_MAIN
