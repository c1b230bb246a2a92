// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injection sweep over /dev/ioasid.
 *
 * Each sequence below (alloc, map, unmap, attach, close, event queues) is
 * run again and again with /proc/self/task/TID/fail-nth set to 1, 2, 3,
 * ...: the Nth fallible call the thread makes in the kernel fails, whether
 * it is a slab or page allocation (failslab, fail_page_alloc) or one of
 * ioasid_fd's own fault points (GUP, iommu_map, attach). The sweep ends
 * when a run completes before reaching the Nth point.
 *
 * A run may fail at any step; it must fail cleanly. Each run is followed
 * by a check that no page is left pinned and nothing is left charged,
 * and the kernel must not warn: panic_on_warn is set for the sweep, and
 * the runner counts any splat as a failure.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ioasid_fd_utils.h"

#define PAGE 4096UL
#define BUF_PAGES 64
#define MIB (1024UL * 1024)

static char *buf;

/*
 * The thread's fail-nth file, opened once: opening it between runs would
 * itself be a fallible call counted by fail-nth.
 */
static int fail_nth_fd = -1;

static int set_fail_nth(unsigned int nth)
{
	char val[16];
	int len;

	len = snprintf(val, sizeof(val), "%u", nth);
	return pwrite(fail_nth_fd, val, len, 0) == len ? 0 : -1;
}

/* Fault points the last run did not reach: 0 means the Nth one failed */
static int fail_nth_left(void)
{
	char val[16] = "";
	int n;

	n = pread(fail_nth_fd, val, sizeof(val) - 1, 0);
	return n > 0 ? atoi(val) : -1;
}

/*
 * The sequences. They stop at the first error, return nothing, and
 * touch no memory that is not already faulted in: a page fault that
 * fails its allocation would kill the test, not exercise ioasid_fd.
 */
static int open_ioasid(uint32_t *ioasid)
{
	int fd = open(IOASID_DEV, O_RDWR);

	if (fd < 0)
		return -1;
	if (_test_alloc(fd, ioasid)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void seq_alloc(void)
{
	uint32_t ioasid, other;
	int fd = open_ioasid(&ioasid);

	if (fd < 0)
		return;
	if (!_test_alloc(fd, &other))
		_test_destroy(fd, other);
	_test_destroy(fd, ioasid);
	close(fd);
}

static void seq_map(void)
{
	uint64_t iova = MIB, auto_iova = 0;
	uint32_t ioasid, dev;
	int fd = open_ioasid(&ioasid);

	if (fd < 0)
		return;
	if (_test_mock_device(fd, IOASID_MOCK_IOMMU_A, &dev) ||
	    _test_attach(fd, dev, ioasid, 1))
		goto out;
	if (_test_map(fd, ioasid, buf, 16 * PAGE, &iova, MAP_FIXED_RW))
		goto out;
	_test_map(fd, ioasid, buf + 16 * PAGE, 16 * PAGE, &auto_iova, MAP_RW);
out:
	close(fd);
}

static void seq_unmap(void)
{
	uint32_t ioasid, dev;
	int fd, i;

	fd = open_ioasid(&ioasid);
	if (fd < 0)
		return;
	if (_test_mock_device(fd, IOASID_MOCK_IOMMU_A, &dev) ||
	    _test_attach(fd, dev, ioasid, 1))
		goto out;
	for (i = 0; i != 8; i++) {
		uint64_t iova = MIB + i * 2 * PAGE;

		if (_test_map(fd, ioasid, buf + i * PAGE, PAGE, &iova,
			      MAP_FIXED_RW))
			goto out;
	}
	if (_test_unmap(fd, ioasid, MIB, 8 * PAGE, 0, NULL))
		goto out;
	_test_unmap(fd, ioasid, 0, 0, IOASID_UNMAP_ALL, NULL);
out:
	close(fd);
}

static void seq_attach(void)
{
	uint32_t ioasid, other, a, b;
	uint64_t iova = MIB;
	int fd;

	fd = open_ioasid(&ioasid);
	if (fd < 0)
		return;
	if (_test_alloc(fd, &other))
		goto out;
	if (_test_map(fd, ioasid, buf, 8 * PAGE, &iova, MAP_FIXED_RW) ||
	    _test_map(fd, other, buf, 8 * PAGE, &iova, MAP_FIXED_RW))
		goto out;
	if (_test_mock_device(fd, IOASID_MOCK_IOMMU_A, &a) ||
	    _test_attach(fd, a, ioasid, 1))
		goto out;
	if (_test_mock_device(fd, IOASID_MOCK_IOMMU_B, &b) ||
	    _test_attach(fd, b, ioasid, 2))
		goto out;
	/* Replace, then detach, then destroy an attached device */
	if (_test_attach(fd, a, other, 1) || _test_detach(fd, b))
		goto out;
	_test_destroy(fd, a);
out:
	close(fd);
}

/*
 * Close is infallible, so its sweep fails each step of building a graph
 * (two IOASIDs with mappings, a device attached to each) and then closes
 * whatever got built: every partial graph must tear down completely.
 */
static void seq_close(void)
{
	uint32_t ioasid[2], dev[2];
	uint64_t iova;
	int fd, i;

	fd = open(IOASID_DEV, O_RDWR);
	if (fd < 0)
		return;
	for (i = 0; i != 2; i++) {
		iova = MIB;
		if (_test_alloc(fd, &ioasid[i]) ||
		    _test_map(fd, ioasid[i], buf + i * 8 * PAGE, 8 * PAGE, &iova,
			      MAP_FIXED_RW) ||
		    _test_mock_device(fd, i, &dev[i]) ||
		    _test_attach(fd, dev[i], ioasid[i], i + 1))
			break;
	}
	close(fd);
}

/*
 * Records read back by the event sequences; a static buffer, faulted in
 * by the setup like @buf.
 */
static struct ioasid_event events[16];

/* Read what a non-blocking queue holds, up to its end */
static void drain(int qfd)
{
	while (read(qfd, events, sizeof(events)) > 0)
		;
}

/* Queues for any IOASID and for one, destroyed, closed, left to close */
static void seq_eventq(void)
{
	int fd, qfd_any = -1, qfd_one = -1;
	uint32_t ioasid, any, one;

	fd = open_ioasid(&ioasid);
	if (fd < 0)
		return;
	if (_test_eventq_alloc(fd, 0, 16, EVENTS_ALL, 0, &any, &qfd_any))
		goto out;
	if (_test_eventq_alloc(fd, ioasid, 1,
			       IOASID_EVENT_MASK(IOASID_EVENT_FAULT),
			       IOASID_EVENTQ_NONBLOCK, &one, &qfd_one))
		goto out;
	_test_destroy(fd, any);
out:
	if (qfd_one >= 0)
		close(qfd_one);
	if (qfd_any >= 0)
		close(qfd_any);
	close(fd);
}

/*
 * The life of a queue: faults (more than it holds), a read, an async
 * unmap held and let go, a device fault, then the device, the IOASID
 * and the queue destroyed, and what is left read to the end.
 */
static void seq_events(void)
{
	uint32_t ioasid, eventq, dev;
	uint64_t iova = MIB;
	int fd, qfd = -1;

	fd = open_ioasid(&ioasid);
	if (fd < 0)
		return;
	if (_test_eventq_alloc(fd, 0, 4, EVENTS_ALL, IOASID_EVENTQ_NONBLOCK,
			       &eventq, &qfd))
		goto out;
	if (_test_mock_device(fd, IOASID_MOCK_IOMMU_A, &dev) ||
	    _test_attach(fd, dev, ioasid, 1))
		goto out;
	if (_test_inject_faults(fd, dev, 16 * MIB, 8, 0))
		goto out;
	drain(qfd);
	if (_test_map(fd, ioasid, buf, 8 * PAGE, &iova, MAP_FIXED_RW) ||
	    _test_async_hold(fd, true) ||
	    _test_unmap_async(fd, ioasid, MIB, 8 * PAGE, 1, NULL) ||
	    _test_async_hold(fd, false))
		goto out;
	/* Fails by design: the range is unmapped now */
	_test_dma(fd, dev, MIB, events, sizeof(events[0]), false);
	drain(qfd);
	if (_test_destroy(fd, dev) || _test_destroy(fd, ioasid))
		goto out;
	_test_destroy(fd, eventq);
	drain(qfd);
out:
	if (qfd >= 0)
		close(qfd);
	close(fd);
}

struct fault_knob {
	const char *path;
	const char *val;
	char saved[32];
};

static struct fault_knob knobs[] = {
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	{ "/sys/kernel/debug/fail_ioasid_fd/verbose", "0" },
	{ "/proc/sys/kernel/panic_on_warn", "1" },
};

FIXTURE(fail_nth)
{
	int64_t pins;
	int64_t locked;
	int probe_fd;
};

FIXTURE_SETUP(fail_nth)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(knobs); i++) {
		int fd = open(knobs[i].path, O_RDONLY);
		ssize_t n;

		if (fd < 0)
			SKIP(return, "no %s: fault injection not configured",
			     knobs[i].path);
		n = read(fd, knobs[i].saved, sizeof(knobs[i].saved) - 1);
		close(fd);
		ASSERT_LT(0, n);
		knobs[i].saved[n] = 0;
		ASSERT_EQ(0, write_str(knobs[i].path, knobs[i].val));
	}
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
			 (long)syscall(SYS_gettid));
		fail_nth_fd = open(path, O_RDWR);
		ASSERT_NE(-1, fail_nth_fd);
	}

	buf = mmap(NULL, BUF_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, madvise(buf, BUF_PAGES * PAGE, MADV_NOHUGEPAGE));
	memset(buf, 1, BUF_PAGES * PAGE);
	memset(events, 0, sizeof(events));

	/* For reading the user's locked_vm between runs */
	self->probe_fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->probe_fd);
	self->pins = foll_pins();
	self->locked = _test_locked(self->probe_fd);
	ASSERT_LE(0, self->pins);
	ASSERT_LE(0, self->locked);
}

FIXTURE_TEARDOWN(fail_nth)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(knobs); i++)
		if (knobs[i].saved[0])
			write_str(knobs[i].path, knobs[i].saved);
}

/*
 * Sweep @seq; return the number of fault points it has. Between runs the
 * pins and the charge must be back at @pins and @locked.
 */
static int sweep(struct __test_metadata *_metadata, void (*seq)(void),
		 int64_t pins, int64_t locked, int probe_fd)
{
	unsigned int nth;
	int left;

	for (nth = 1; nth < 20000; nth++) {
		ASSERT_EQ(0, set_fail_nth(nth));
		seq();
		left = fail_nth_left();
		ASSERT_EQ(0, set_fail_nth(0));

		/* Whatever failed, nothing stays pinned or charged */
		ASSERT_EQ(pins, foll_pins());
		ASSERT_EQ(locked, _test_locked(probe_fd));
		if (left > 0) {
			TH_LOG("%u fault points", nth - 1);
			return nth - 1;
		}
		ASSERT_EQ(0, left);
	}
	return -1;
}

/* A sequence with no fault point would prove nothing */
#define EXPECT_SWEEP(seq) \
	EXPECT_LT(0, sweep(_metadata, seq, self->pins, self->locked, \
			   self->probe_fd))

TEST_F_TIMEOUT(fail_nth, every_failure_in_alloc_unwinds, 1200)
{
	EXPECT_SWEEP(seq_alloc);
}

TEST_F_TIMEOUT(fail_nth, every_failure_in_map_unwinds, 1200)
{
	EXPECT_SWEEP(seq_map);
}

TEST_F_TIMEOUT(fail_nth, every_failure_in_unmap_unwinds, 1200)
{
	EXPECT_SWEEP(seq_unmap);
}

TEST_F_TIMEOUT(fail_nth, every_failure_in_attach_unwinds, 1200)
{
	EXPECT_SWEEP(seq_attach);
}

TEST_F_TIMEOUT(fail_nth, every_failure_before_close_unwinds, 1200)
{
	EXPECT_SWEEP(seq_close);
}

TEST_F_TIMEOUT(fail_nth, every_failure_in_eventq_alloc_unwinds, 1200)
{
	EXPECT_SWEEP(seq_eventq);
}

TEST_F_TIMEOUT(fail_nth, every_failure_in_an_event_sequence_unwinds, 1200)
{
	EXPECT_SWEEP(seq_events);
}

TEST_HARNESS_MAIN
