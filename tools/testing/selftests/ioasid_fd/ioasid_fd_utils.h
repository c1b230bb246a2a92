/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the /dev/ioasid selftests, in three tiers:
 *   _test_foo(fd, ...)      do the call, return 0 or -1 with errno set;
 *   test_foo(...)           the call must succeed (ASSERT);
 *   test_err_foo(err, ...)  the call must fail with errno @err (EXPECT).
 * The last two are macros because the harness's assertions need the
 * test's context; they use self->fd.
 */
#ifndef __SELFTEST_IOASID_FD_UTILS_H
#define __SELFTEST_IOASID_FD_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioasid_fd.h>

#include "../kselftest_harness.h"
#include "../../../../drivers/iommu/ioasid/iofd_test.h"

#define IOASID_DEV "/dev/ioasid"

#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof(((TYPE *)0)->MEMBER))

/* The call must fail with @expected_errno */
#define EXPECT_ERRNO(expected_errno, cmd)                                     \
	({                                                                    \
		int __rc = (cmd);                                             \
		EXPECT_EQ(-1, __rc);                                          \
		if (__rc == -1)                                               \
			EXPECT_EQ(expected_errno, errno);                     \
	})

/*
 * The size rules of every ioctl (see the uAPI header): a structure
 * shorter than its first release is EINVAL, a longer one with a non-zero
 * byte beyond what the kernel knows is E2BIG, and a longer one with a
 * zero tail behaves exactly as the exact size does. The structure is
 * otherwise all zero, so the handler sees the same input every time.
 */
#define TEST_LENGTH(_struct, _ioctl, _last)                                   \
	do {                                                                  \
		size_t __min = offsetofend(struct _struct, _last);            \
		struct {                                                      \
			struct _struct cmd;                                   \
			uint8_t extra;                                        \
		} __buf;                                                      \
		int __exact_rc, __exact_errno = 0, __rc;                      \
									      \
		memset(&__buf, 0, sizeof(__buf));                             \
		__buf.cmd.size = __min - 1;                                   \
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, _ioctl, &__buf));        \
									      \
		memset(&__buf, 0, sizeof(__buf));                             \
		__buf.cmd.size = sizeof(__buf.cmd);                           \
		__exact_rc = ioctl(self->fd, _ioctl, &__buf);                 \
		if (__exact_rc)                                               \
			__exact_errno = errno;                                \
									      \
		memset(&__buf, 0, sizeof(__buf));                             \
		__buf.cmd.size = sizeof(__buf);                               \
		__buf.extra = 0xAA;                                           \
		EXPECT_ERRNO(E2BIG, ioctl(self->fd, _ioctl, &__buf));         \
									      \
		memset(&__buf, 0, sizeof(__buf));                             \
		__buf.cmd.size = sizeof(__buf);                               \
		__rc = ioctl(self->fd, _ioctl, &__buf);                       \
		EXPECT_EQ(__exact_rc, __rc);                                  \
		if (__rc)                                                     \
			EXPECT_EQ(__exact_errno, errno);                      \
	} while (0)

static int _test_cmd_info(int fd, struct ioasid_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, IOASID_INFO, info);
}

#define test_cmd_info(info) ASSERT_EQ(0, _test_cmd_info(self->fd, info))

/* IOASID_DESTROY */
static int _test_destroy(int fd, uint32_t id)
{
	struct ioasid_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(fd, IOASID_DESTROY, &cmd);
}

#define test_destroy(id) ASSERT_EQ(0, _test_destroy(self->fd, id))
#define test_err_destroy(_errno, id) \
	EXPECT_ERRNO(_errno, _test_destroy(self->fd, id))

/* IOASID_ALLOC */
static int _test_alloc(int fd, uint32_t *id)
{
	struct ioasid_alloc cmd = { .size = sizeof(cmd) };
	int rc;

	rc = ioctl(fd, IOASID_ALLOC, &cmd);
	if (!rc && id)
		*id = cmd.out_ioasid;
	return rc;
}

#define test_alloc(id) ASSERT_EQ(0, _test_alloc(self->fd, id))

/* IOASID_IOVA_RANGES: fill @ranges (up to *@num), set *@num to the total */
static int _test_iova_ranges(int fd, uint32_t ioasid,
			     struct ioasid_iova_range *ranges, uint32_t *num,
			     uint64_t *align)
{
	struct ioasid_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.num_ranges = *num,
		.ranges = (uintptr_t)ranges,
	};
	int rc;

	rc = ioctl(fd, IOASID_IOVA_RANGES, &cmd);
	*num = cmd.num_ranges;
	if (align)
		*align = cmd.out_iova_alignment;
	return rc;
}

/* IOASID_MAP */
static int _test_map(int fd, uint32_t ioasid, void *buf, uint64_t length,
		     uint64_t *iova, uint32_t flags)
{
	struct ioasid_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.user_va = (uintptr_t)buf,
		.length = length,
		.iova = iova ? *iova : 0,
	};
	int rc;

	rc = ioctl(fd, IOASID_MAP, &cmd);
	if (!rc && iova)
		*iova = cmd.iova;
	return rc;
}

#define MAP_RW (IOASID_MAP_READ | IOASID_MAP_WRITE)
#define MAP_FIXED_RW (IOASID_MAP_FIXED_IOVA | MAP_RW)

/* Map @buf at the fixed IOVA @iova, read/write */
#define test_map_fixed(ioasid, buf, length, iova)                             \
	({                                                                    \
		uint64_t __iova = (iova);                                     \
		ASSERT_EQ(0, _test_map(self->fd, ioasid, buf, length,        \
				       &__iova, MAP_FIXED_RW));               \
	})
#define test_err_map_fixed(_errno, ioasid, buf, length, iova)                 \
	({                                                                    \
		uint64_t __iova = (iova);                                     \
		EXPECT_ERRNO(_errno, _test_map(self->fd, ioasid, buf, length, \
					       &__iova, MAP_FIXED_RW));       \
	})

/* IOASID_UNMAP; @unmapped may be NULL */
static int _test_unmap(int fd, uint32_t ioasid, uint64_t iova,
		       uint64_t length, uint32_t flags, uint64_t *unmapped)
{
	struct ioasid_unmap cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
	};
	int rc;

	rc = ioctl(fd, IOASID_UNMAP, &cmd);
	if (!rc && unmapped)
		*unmapped = cmd.out_length;
	return rc;
}

#define test_unmap(ioasid, iova, length)                                      \
	({                                                                    \
		uint64_t __unmapped;                                          \
		ASSERT_EQ(0, _test_unmap(self->fd, ioasid, iova, length, 0,  \
					 &__unmapped));                       \
		ASSERT_EQ(length, __unmapped);                                \
	})
#define test_err_unmap(_errno, ioasid, iova, length)                          \
	EXPECT_ERRNO(_errno, _test_unmap(self->fd, ioasid, iova, length, 0,   \
					 NULL))

/* IOASID_TEST */
static int _test_cmd(int fd, struct ioasid_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOASID_TEST, cmd);
}

static int _test_mock_device(int fd, uint32_t iommu, uint32_t *id)
{
	struct ioasid_test_cmd cmd = {
		.op = IOASID_TEST_OP_MOCK_DEVICE,
		.mock_device = { .iommu = iommu },
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (!rc && id)
		*id = cmd.mock_device.out_device_id;
	return rc;
}

#define test_mock_device(iommu, id) \
	ASSERT_EQ(0, _test_mock_device(self->fd, iommu, id))

static int _test_attach(int fd, uint32_t dev, uint32_t ioasid, uint64_t label)
{
	struct ioasid_test_cmd cmd = {
		.op = IOASID_TEST_OP_ATTACH,
		.id = dev,
		.attach = { .ioasid = ioasid, .label = label },
	};

	return _test_cmd(fd, &cmd);
}

#define test_attach(dev, ioasid, label) \
	ASSERT_EQ(0, _test_attach(self->fd, dev, ioasid, label))
#define test_err_attach(_errno, dev, ioasid, label) \
	EXPECT_ERRNO(_errno, _test_attach(self->fd, dev, ioasid, label))

static int _test_detach(int fd, uint32_t dev)
{
	struct ioasid_test_cmd cmd = { .op = IOASID_TEST_OP_DETACH, .id = dev };

	return _test_cmd(fd, &cmd);
}

#define test_detach(dev) ASSERT_EQ(0, _test_detach(self->fd, dev))
#define test_err_detach(_errno, dev) \
	EXPECT_ERRNO(_errno, _test_detach(self->fd, dev))

static int _test_check_map(int fd, uint32_t ioasid, uint64_t iova,
			   void *buf, uint64_t length)
{
	struct ioasid_test_cmd cmd = {
		.op = IOASID_TEST_OP_CHECK_MAP,
		.id = ioasid,
		.check_map = { .iova = iova, .length = length,
			       .uptr = (uintptr_t)buf },
	};

	return _test_cmd(fd, &cmd);
}

#define test_check_map(ioasid, iova, buf, length) \
	ASSERT_EQ(0, _test_check_map(self->fd, ioasid, iova, buf, length))

/* Pages of [buf, buf + length) pinned for DMA, or -1 */
static int64_t _test_pinned(int fd, void *buf, uint64_t length)
{
	struct ioasid_test_cmd cmd = {
		.op = IOASID_TEST_OP_PINNED,
		.pinned = { .uptr = (uintptr_t)buf, .length = length },
	};

	if (_test_cmd(fd, &cmd))
		return -1;
	return cmd.pinned.out_pinned;
}

#define test_pinned(buf, length, expected) \
	ASSERT_EQ(expected, _test_pinned(self->fd, buf, length))

static int _test_dma(int fd, uint32_t dev, uint64_t iova, void *buf,
		     uint64_t length, bool write)
{
	struct ioasid_test_cmd cmd = {
		.op = IOASID_TEST_OP_DMA,
		.id = dev,
		.dma = { .iova = iova, .length = length, .uptr = (uintptr_t)buf,
			 .flags = write ? IOASID_TEST_DMA_WRITE : 0 },
	};

	return _test_cmd(fd, &cmd);
}

/* The device reads memory at @iova into @buf */
#define test_dma_read(dev, iova, buf, length) \
	ASSERT_EQ(0, _test_dma(self->fd, dev, iova, buf, length, false))
/* The device writes @buf to memory at @iova */
#define test_dma_write(dev, iova, buf, length) \
	ASSERT_EQ(0, _test_dma(self->fd, dev, iova, buf, length, true))
#define test_err_dma(_errno, dev, iova, buf, length, write) \
	EXPECT_ERRNO(_errno, _test_dma(self->fd, dev, iova, buf, length, write))

/*
 * The IOTLB flushes one call that unmaps @ranges disjoint ranges makes on
 * a mock I/O page table: mock IOMMU A takes deferred flushes (a queued
 * gather, then one flush of everything), B flushes each range it
 * gathered, as a driver without IOMMU_CAP_DEFERRED_FLUSH must.
 */
static inline uint64_t mock_unmap_flushes(uint32_t iommu, uint64_t ranges)
{
	return iommu == IOASID_MOCK_IOMMU_A ? 1 : ranges;
}

static int _test_domain_stats(int fd, uint32_t dev, bool reset,
			      struct ioasid_test_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = IOASID_TEST_OP_DOMAIN_STATS;
	cmd->id = dev;
	cmd->domain_stats.flags = reset ? IOASID_TEST_STATS_RESET : 0;
	return _test_cmd(fd, cmd);
}

static int _test_ioasid_stats(int fd, uint32_t ioasid,
			      struct ioasid_test_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = IOASID_TEST_OP_IOASID_STATS;
	cmd->id = ioasid;
	return _test_cmd(fd, cmd);
}

/* Number of I/O page tables @ioasid keeps, or -1 */
static int64_t _test_domains(int fd, uint32_t ioasid)
{
	struct ioasid_test_cmd cmd;

	if (_test_ioasid_stats(fd, ioasid, &cmd))
		return -1;
	return cmd.ioasid_stats.out_domains;
}

/* Set the fd's memlock limit (0: RLIMIT_MEMLOCK again) */
static int _test_memlock_set(int fd, uint64_t pages)
{
	struct ioasid_test_cmd cmd = {
		.op = IOASID_TEST_OP_MEMLOCK,
		.memlock = { .flags = IOASID_TEST_MEMLOCK_SET, .pages = pages },
	};

	return _test_cmd(fd, &cmd);
}

/* The caller's user's locked_vm, in pages, or -1 */
static int64_t _test_locked(int fd)
{
	struct ioasid_test_cmd cmd = { .op = IOASID_TEST_OP_MEMLOCK };

	if (_test_cmd(fd, &cmd))
		return -1;
	return cmd.memlock.out_locked;
}

/* IOASID_UNMAP with IOASID_UNMAP_ASYNC; @unmapped may be NULL */
static int _test_unmap_async(int fd, uint32_t ioasid, uint64_t iova,
			     uint64_t length, uint64_t cookie,
			     uint64_t *unmapped)
{
	struct ioasid_unmap cmd = {
		.size = sizeof(cmd),
		.flags = IOASID_UNMAP_ASYNC,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
		.cookie = cookie,
	};
	int rc;

	rc = ioctl(fd, IOASID_UNMAP, &cmd);
	if (!rc && unmapped)
		*unmapped = cmd.out_length;
	return rc;
}

#define test_unmap_async(ioasid, iova, length, cookie)                        \
	({                                                                    \
		uint64_t __unmapped;                                          \
		ASSERT_EQ(0, _test_unmap_async(self->fd, ioasid, iova, length, \
					       cookie, &__unmapped));         \
		ASSERT_EQ(length, __unmapped);                                \
	})
#define test_err_unmap_async(_errno, ioasid, iova, length, cookie)            \
	EXPECT_ERRNO(_errno, _test_unmap_async(self->fd, ioasid, iova, length, \
					       cookie, NULL))

/* Both event types a queue can ask for */
#define EVENTS_ALL                                                            \
	(IOASID_EVENT_MASK(IOASID_EVENT_FAULT) |                              \
	 IOASID_EVENT_MASK(IOASID_EVENT_INVAL))

/* IOASID_EVENTQ_ALLOC; on success *@id and *@qfd are the queue's */
static int _test_eventq_alloc(int fd, uint32_t ioasid, uint32_t depth,
			      uint64_t mask, uint32_t flags, uint32_t *id,
			      int *qfd)
{
	struct ioasid_eventq_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.depth = depth,
		.event_mask = mask,
		.out_fd = -1,
	};
	int rc;

	rc = ioctl(fd, IOASID_EVENTQ_ALLOC, &cmd);
	if (!rc) {
		if (id)
			*id = cmd.out_eventq_id;
		*qfd = cmd.out_fd;
	}
	return rc;
}

#define test_eventq_alloc(ioasid, depth, mask, flags, id, qfd)                \
	ASSERT_EQ(0, _test_eventq_alloc(self->fd, ioasid, depth, mask, flags, \
					id, qfd))
#define test_err_eventq_alloc(_errno, ioasid, depth, mask, flags)             \
	({                                                                    \
		int __qfd = -1;                                               \
		EXPECT_ERRNO(_errno, _test_eventq_alloc(self->fd, ioasid,     \
							depth, mask, flags,   \
							NULL, &__qfd));       \
		if (__qfd >= 0)                                               \
			close(__qfd);                                         \
	})

/*
 * IOASID_DEVICE_INFO of the device attached with @label: fills @info,
 * and up to @num reserved ranges at @resv
 */
static int _test_device_info(int fd, uint64_t label,
			     struct ioasid_device_info *info,
			     struct ioasid_iova_range *resv, uint32_t num)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->label = label;
	info->num_reserved = num;
	info->reserved = (uintptr_t)resv;
	return ioctl(fd, IOASID_DEVICE_INFO, info);
}

#define test_err_device_info(_errno, label)                                   \
	({                                                                    \
		struct ioasid_device_info __info;                             \
		EXPECT_ERRNO(_errno, _test_device_info(self->fd, label,       \
						       &__info, NULL, 0));    \
	})

/* Mock device @dev reports @count faults at @iova, @iova + 4KiB, ... */
static int _test_inject_faults(int fd, uint32_t dev, uint64_t iova,
			       uint32_t count, uint32_t flags)
{
	struct ioasid_test_cmd cmd = {
		.op = IOASID_TEST_OP_INJECT_FAULTS,
		.id = dev,
		.inject = { .iova = iova, .count = count, .flags = flags },
	};

	return _test_cmd(fd, &cmd);
}

#define test_inject_faults(dev, iova, count, flags) \
	ASSERT_EQ(0, _test_inject_faults(self->fd, dev, iova, count, flags))
#define test_err_inject_faults(_errno, dev, iova, count, flags)              \
	EXPECT_ERRNO(_errno, _test_inject_faults(self->fd, dev, iova, count,  \
						 flags))

/* Hold back the completion of async unmaps, or let them all complete */
static int _test_async_hold(int fd, bool hold)
{
	struct ioasid_test_cmd cmd = {
		.op = IOASID_TEST_OP_ASYNC_HOLD,
		.async_hold = { .flags = hold ? IOASID_TEST_ASYNC_HOLD : 0 },
	};

	return _test_cmd(fd, &cmd);
}

#define test_async_hold(hold) ASSERT_EQ(0, _test_async_hold(self->fd, hold))

/* Number of mappings @ioasid holds, or -1 */
static int64_t _test_mappings(int fd, uint32_t ioasid)
{
	struct ioasid_test_cmd cmd;

	if (_test_ioasid_stats(fd, ioasid, &cmd))
		return -1;
	return cmd.ioasid_stats.out_mappings;
}

/* POLLIN, POLLHUP, ... as poll() reports them for @fd now, or -1 */
static int poll_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc;

	rc = poll(&pfd, 1, 0);
	if (rc < 0)
		return -1;
	return rc ? pfd.revents : 0;
}

/*
 * The next record of event queue @qfd, which must be ready now: a
 * missing record fails the test instead of blocking it.
 */
#define test_read_event(qfd, ev)                                              \
	({                                                                    \
		ASSERT_EQ(POLLIN, poll_now(qfd) & POLLIN);                    \
		ASSERT_EQ(sizeof(*(ev)), read(qfd, ev, sizeof(*(ev))));       \
	})

/* Event queue @qfd has nothing to read now */
#define test_no_event(qfd) EXPECT_EQ(0, poll_now(qfd))

/* The state letter of task @tid of process @pid ('R', 'S', ...), or 0 */
static char task_state(pid_t pid, pid_t tid)
{
	char path[64], stat[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	stat[n] = 0;
	/* "tid (comm) S ...": comm may hold anything, even ')' */
	paren = strrchr(stat, ')');
	if (!paren || paren[1] != ' ')
		return 0;
	return paren[2];
}

/*
 * Poll (never sleep) until task @tid of process @pid sleeps
 * interruptibly, as it does blocked in read(); false if it never does
 * within 10s, or is gone.
 */
static bool wait_task_sleeping(pid_t pid, pid_t tid)
{
	struct timespec now, end;
	char state;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 10;
	for (;;) {
		state = task_state(pid, tid);
		if (state == 'S')
			return true;
		if (!state || state == 'Z' || state == 'X')
			return false;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec > end.tv_nsec))
			return false;
		sched_yield();
	}
}

/*
 * IORING_OP_READ_MULTISHOT, defined in ioasid_fd_uring_op.c from the
 * kernel's header, which liburing 2.3's copy of it predates
 */
extern const unsigned char ioasid_uring_op_read_multishot;

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * Pages pinned with FOLL_PIN by anyone, from /proc/vmstat: what teardown
 * compares with its value at setup to prove that nothing stayed pinned.
 */
static int64_t foll_pins(void)
{
	long long acquired = -1, released = -1, v;
	char name[64];
	FILE *f;

	/* Fold the per-CPU counter deltas in first, or the sum is stale */
	f = fopen("/proc/sys/vm/stat_refresh", "w");
	if (!f)
		return -1;
	fputs("1", f);
	fclose(f);

	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = v;
	}
	fclose(f);
	if (acquired < 0 || released < 0)
		return -1;
	return acquired - released;
}

#endif
