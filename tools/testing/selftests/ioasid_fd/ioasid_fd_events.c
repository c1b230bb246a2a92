// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests of the /dev/ioasid event queues on the mock IOMMUs: creating
 * a queue, the record format, read() and poll() on its fd, sequence
 * numbers and lost events, the DMA faults and invalidations the core
 * reports, filters, asynchronous unmap, the queue's lifetime, and
 * IOASID_DEVICE_INFO.
 *
 * Nothing here sleeps to wait for another thread or process: a reader
 * blocked in read() is recognised by its state in /proc ('S'), which
 * the test polls before it makes the event that must wake the reader.
 */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ioasid_fd_utils.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024)
#define BUF_PAGES 64
#define LABEL 0x1abe1000ULL
#define WHOLE_SPACE_LAST UINT64_MAX

static_assert(sizeof(struct ioasid_event) == IOASID_EVENT_SIZE,
	      "an event record is IOASID_EVENT_SIZE bytes");

/* The fields every fault record must carry */
#define EXPECT_FAULT(ev, _ioasid, _label, _iova, _access, _reason)           \
	do {                                                                  \
		EXPECT_EQ(IOASID_EVENT_FAULT, (ev)->type);                    \
		EXPECT_EQ(_ioasid, (ev)->ioasid);                             \
		EXPECT_EQ(_label, (ev)->label);                               \
		EXPECT_EQ(_iova, (ev)->fault.iova);                           \
		EXPECT_EQ(_access, (ev)->fault.access);                       \
		EXPECT_EQ(_reason, (ev)->fault.reason);                       \
		EXPECT_NE(0, (ev)->fault.vendor_code);                        \
	} while (0)

/* The fields every invalidation record must carry */
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

/* Every byte of @ev from @from on is zero */
static bool zero_from(const struct ioasid_event *ev, size_t from)
{
	const uint8_t *p = (const uint8_t *)ev;

	for (; from != sizeof(*ev); from++)
		if (p[from])
			return false;
	return true;
}

/*
 * Read a non-blocking queue until it is empty (EAGAIN) or ends (0):
 * return how many records landed in @ev (at most @max), or -1 if a read
 * failed otherwise or returned part of a record.
 */
static int read_all(int qfd, struct ioasid_event *ev, int max, bool *ended)
{
	int n = 0;

	*ended = false;
	while (n != max) {
		ssize_t rc = read(qfd, ev + n, (max - n) * sizeof(*ev));

		if (rc == 0) {
			*ended = true;
			break;
		}
		if (rc < 0)
			return errno == EAGAIN ? n : -1;
		if (rc % sizeof(*ev))
			return -1;
		n += rc / sizeof(*ev);
	}
	return n;
}

/* A thread that blocks in read() on an event queue */
struct reader {
	pthread_t thread;
	int qfd;
	size_t len;
	pid_t tid;
	int started;
	ssize_t rc;
	struct ioasid_event ev[4];
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;

	r->tid = syscall(SYS_gettid);
	__atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
	r->rc = read(r->qfd, r->ev, r->len);
	return NULL;
}

/* Start @r reading @len bytes of @qfd; return once it is blocked */
#define start_blocked_reader(r, _qfd, _len)                                   \
	({                                                                    \
		(r)->qfd = (_qfd);                                            \
		(r)->len = (_len);                                            \
		ASSERT_EQ(0, pthread_create(&(r)->thread, NULL, reader_fn,    \
					    (r)));                            \
		while (!__atomic_load_n(&(r)->started, __ATOMIC_ACQUIRE))     \
			sched_yield();                                        \
		ASSERT_TRUE(wait_task_sleeping(getpid(), (r)->tid));          \
	})

/*
 * Creating queues: argument checks, the size rules, the fd and the ID.
 * One IOASID, no device.
 */
FIXTURE(eventq)
{
	int fd;
	uint32_t ioasid;
	int64_t pins_at_setup;
	char *buf;
};

FIXTURE_SETUP(eventq)
{
	self->pins_at_setup = foll_pins();
	ASSERT_LE(0, self->pins_at_setup);
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
	test_alloc(&self->ioasid);
	self->buf = mmap(NULL, BUF_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, madvise(self->buf, BUF_PAGES * PAGE, MADV_NOHUGEPAGE));
	memset(self->buf, 0x5a, BUF_PAGES * PAGE);
}

FIXTURE_TEARDOWN(eventq)
{
	close(self->fd);
	munmap(self->buf, BUF_PAGES * PAGE);
	EXPECT_EQ(self->pins_at_setup, foll_pins());
}

TEST_F(eventq, info_reports_the_events_capability)
{
	struct ioasid_info info;

	test_cmd_info(&info);
	EXPECT_TRUE(info.out_capabilities & IOASID_CAP_EVENTS);
}

TEST_F(eventq, new_ioctls_follow_the_size_rules)
{
	TEST_LENGTH(ioasid_eventq_alloc, IOASID_EVENTQ_ALLOC, out_fd);
	TEST_LENGTH(ioasid_device_info, IOASID_DEVICE_INFO, reserved);
}

TEST_F(eventq, eventq_alloc_refuses_a_depth_out_of_range)
{
	uint32_t id;
	int qfd;

	test_err_eventq_alloc(EINVAL, 0, 0, EVENTS_ALL, 0);
	test_err_eventq_alloc(EINVAL, 0, IOASID_EVENTQ_MAX_DEPTH + 1,
			      EVENTS_ALL, 0);
	test_err_eventq_alloc(EINVAL, 0, UINT32_MAX, EVENTS_ALL, 0);
	/* Both ends of the range are fine */
	test_eventq_alloc(0, 1, EVENTS_ALL, 0, &id, &qfd);
	close(qfd);
	test_destroy(id);
	test_eventq_alloc(0, IOASID_EVENTQ_MAX_DEPTH, EVENTS_ALL, 0, &id, &qfd);
	close(qfd);
	test_destroy(id);
}

TEST_F(eventq, eventq_alloc_refuses_an_empty_or_unknown_event_mask)
{
	uint32_t id;
	int qfd;

	test_err_eventq_alloc(EINVAL, 0, 16, 0, 0);
	/* LOST is always delivered: it is not a bit of the mask */
	test_err_eventq_alloc(EOPNOTSUPP, 0, 16,
			      IOASID_EVENT_MASK(IOASID_EVENT_LOST), 0);
	test_err_eventq_alloc(EOPNOTSUPP, 0, 16, EVENTS_ALL | 1, 0);
	test_err_eventq_alloc(EOPNOTSUPP, 0, 16, EVENTS_ALL | 1ULL << 63, 0);
	/* Each type alone is fine */
	test_eventq_alloc(0, 16, IOASID_EVENT_MASK(IOASID_EVENT_FAULT), 0, &id,
			  &qfd);
	close(qfd);
	test_eventq_alloc(0, 16, IOASID_EVENT_MASK(IOASID_EVENT_INVAL), 0, &id,
			  &qfd);
	close(qfd);
}

TEST_F(eventq, eventq_alloc_refuses_unknown_flags)
{
	test_err_eventq_alloc(EOPNOTSUPP, 0, 16, EVENTS_ALL, 1U << 31);
	test_err_eventq_alloc(EOPNOTSUPP, 0, 16, EVENTS_ALL,
			      IOASID_EVENTQ_NONBLOCK << 1);
}

TEST_F(eventq, eventq_alloc_for_a_missing_ioasid_is_enoent)
{
	uint32_t dev, id;
	int qfd;

	test_err_eventq_alloc(ENOENT, self->ioasid + 100, 16, EVENTS_ALL, 0);
	/* A mock device is not an IOASID, nor is a queue */
	test_mock_device(IOASID_MOCK_IOMMU_A, &dev);
	test_err_eventq_alloc(ENOENT, dev, 16, EVENTS_ALL, 0);
	test_eventq_alloc(self->ioasid, 16, EVENTS_ALL, 0, &id, &qfd);
	test_err_eventq_alloc(ENOENT, id, 16, EVENTS_ALL, 0);
	close(qfd);
}

TEST_F(eventq, eventq_fd_is_cloexec_and_nonblock_on_request)
{
	uint32_t a, b;
	int qa, qb;

	test_eventq_alloc(0, 16, EVENTS_ALL, 0, &a, &qa);
	test_eventq_alloc(self->ioasid, 16, EVENTS_ALL, IOASID_EVENTQ_NONBLOCK,
			  &b, &qb);
	EXPECT_NE(0, a);
	EXPECT_NE(0, b);
	EXPECT_NE(a, b);
	EXPECT_NE(self->ioasid, a);
	EXPECT_NE(self->ioasid, b);
	EXPECT_EQ(FD_CLOEXEC, fcntl(qa, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(FD_CLOEXEC, fcntl(qb, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fcntl(qa, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(O_NONBLOCK, fcntl(qb, F_GETFL) & O_NONBLOCK);
	/* Nothing happened yet */
	EXPECT_ERRNO(EAGAIN, read(qb, self->buf, IOASID_EVENT_SIZE));
	close(qa);
	close(qb);
}

TEST_F(eventq, closing_the_queue_fd_keeps_its_id)
{
	uint32_t id;
	int qfd;

	test_eventq_alloc(0, 16, EVENTS_ALL, 0, &id, &qfd);
	ASSERT_EQ(0, close(qfd));
	/* Events for a queue nobody reads are harmless */
	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	test_unmap(self->ioasid, MIB, PAGE);
	test_destroy(id);
	test_err_destroy(ENOENT, id);
}

TEST_F(eventq, unmap_cookie_needs_the_async_flag)
{
	struct ioasid_unmap cmd = {
		.size = sizeof(cmd),
		.ioasid = self->ioasid,
		.iova = MIB,
		.length = PAGE,
		.cookie = 1,
	};

	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_UNMAP, &cmd));
	EXPECT_EQ(1, _test_mappings(self->fd, self->ioasid));
	test_pinned(self->buf, PAGE, 1);
	/* The structure of the first release has no cookie: it is 0 */
	cmd.size = offsetofend(struct ioasid_unmap, out_length);
	ASSERT_EQ(0, ioctl(self->fd, IOASID_UNMAP, &cmd));
	EXPECT_EQ(PAGE, cmd.out_length);
	/* ...and the kernel wrote nothing past it */
	EXPECT_EQ(1, cmd.cookie);
	EXPECT_EQ(0, _test_mappings(self->fd, self->ioasid));
	test_pinned(self->buf, PAGE, 0);
}

TEST_F(eventq, async_unmap_without_a_cookie_completes_with_cookie_zero)
{
	struct ioasid_event ev;
	struct ioasid_unmap cmd = {
		.size = offsetofend(struct ioasid_unmap, out_length),
		.flags = IOASID_UNMAP_ASYNC,
		.ioasid = self->ioasid,
		.iova = MIB,
		.length = 2 * PAGE,
	};
	int qfd;

	test_eventq_alloc(0, 16, EVENTS_ALL, IOASID_EVENTQ_NONBLOCK, NULL,
			  &qfd);
	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	test_async_hold(true);
	ASSERT_EQ(0, ioctl(self->fd, IOASID_UNMAP, &cmd));
	EXPECT_EQ(2 * PAGE, cmd.out_length);
	test_async_hold(false);
	test_read_event(qfd, &ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB, MIB + 2 * PAGE - 1,
		     IOASID_INVAL_ASYNC_UNMAP, 0);
	test_pinned(self->buf, 2 * PAGE, 0);
	close(qfd);
}

/*
 * What the queues get: one IOASID, one mock device attached to it with
 * LABEL, and a non-blocking queue of depth 64 for both event types,
 * created last so that it sees nothing of the setup. The variants put the
 * device behind either mock IOMMU, and one filters the queue to the
 * IOASID: every test then checks that the queue gets exactly the events
 * about that IOASID.
 */
FIXTURE(events)
{
	int fd;
	uint32_t ioasid;
	uint32_t dev;
	uint32_t filter;
	uint32_t eventq;
	int qfd;
	uint64_t seq;
	int64_t pins_at_setup;
	char *buf;
};

FIXTURE_VARIANT(events)
{
	uint32_t iommu;
	bool filtered;
};

FIXTURE_VARIANT_ADD(events, mock_iommu_a)
{
	.iommu = IOASID_MOCK_IOMMU_A,
};

FIXTURE_VARIANT_ADD(events, mock_iommu_b)
{
	.iommu = IOASID_MOCK_IOMMU_B,
};

FIXTURE_VARIANT_ADD(events, queue_for_the_ioasid)
{
	.iommu = IOASID_MOCK_IOMMU_A,
	.filtered = true,
};

FIXTURE_SETUP(events)
{
	self->pins_at_setup = foll_pins();
	ASSERT_LE(0, self->pins_at_setup);
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
	test_alloc(&self->ioasid);
	test_mock_device(variant->iommu, &self->dev);
	test_attach(self->dev, self->ioasid, LABEL);
	self->filter = variant->filtered ? self->ioasid : 0;
	test_eventq_alloc(self->filter, 64, EVENTS_ALL, IOASID_EVENTQ_NONBLOCK,
			  &self->eventq, &self->qfd);
	self->buf = mmap(NULL, BUF_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, madvise(self->buf, BUF_PAGES * PAGE, MADV_NOHUGEPAGE));
	memset(self->buf, 0x5a, BUF_PAGES * PAGE);
}

FIXTURE_TEARDOWN(events)
{
	/* Whatever the queue holds, closing both fds frees everything */
	close(self->qfd);
	close(self->fd);
	munmap(self->buf, BUF_PAGES * PAGE);
	EXPECT_EQ(self->pins_at_setup, foll_pins());
}

/* Whether the fixture's queue takes events about @ioasid */
#define sees(ioasid) (!self->filter || (ioasid) == self->filter)

/* The fixture queue's next record, which must be ready, in sequence */
#define test_next_event(ev)                                                   \
	({                                                                    \
		test_read_event(self->qfd, ev);                               \
		EXPECT_EQ(self->seq, (ev)->seq);                              \
		self->seq++;                                                  \
	})

TEST_F(events, read_needs_room_for_a_whole_record)
{
	struct ioasid_event ev[4];
	char *raw = (char *)ev;

	test_inject_faults(self->dev, MIB, 1, 0);
	EXPECT_ERRNO(EINVAL, read(self->qfd, raw, IOASID_EVENT_SIZE - 1));
	EXPECT_ERRNO(EINVAL, read(self->qfd, raw, 1));
	/* The refused reads took nothing: a 100-byte read gets the record */
	ASSERT_EQ(IOASID_EVENT_SIZE, read(self->qfd, raw, 100));
	EXPECT_EQ(0, ev[0].seq);
	EXPECT_EQ(IOASID_EVENT_FAULT, ev[0].type);

	/* Whole records only, as many as fit */
	test_inject_faults(self->dev, MIB, 3, 0);
	ASSERT_EQ(2 * IOASID_EVENT_SIZE,
		  read(self->qfd, raw, 2 * IOASID_EVENT_SIZE + 63));
	EXPECT_EQ(1, ev[0].seq);
	EXPECT_EQ(2, ev[1].seq);
	ASSERT_EQ(IOASID_EVENT_SIZE, read(self->qfd, raw, sizeof(ev)));
	EXPECT_EQ(3, ev[0].seq);
	EXPECT_ERRNO(EAGAIN, read(self->qfd, raw, sizeof(ev)));
}

TEST_F(events, an_empty_queue_is_eagain_and_polls_pollin_only_when_ready)
{
	struct ioasid_event ev;

	EXPECT_ERRNO(EAGAIN, read(self->qfd, &ev, sizeof(ev)));
	EXPECT_EQ(0, poll_now(self->qfd));
	test_inject_faults(self->dev, MIB, 1, 0);
	EXPECT_EQ(POLLIN, poll_now(self->qfd) & (POLLIN | POLLHUP | POLLERR));
	ASSERT_EQ(sizeof(ev), read(self->qfd, &ev, sizeof(ev)));
	EXPECT_EQ(0, poll_now(self->qfd));
	EXPECT_ERRNO(EAGAIN, read(self->qfd, &ev, sizeof(ev)));
}

TEST_F(events, records_are_zero_where_no_field_is_set)
{
	struct ioasid_event ev;

	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	test_inject_faults(self->dev, 2 * MIB, 1, 0);
	test_unmap(self->ioasid, MIB, PAGE);

	memset(&ev, 0xff, sizeof(ev));
	test_next_event(&ev);
	EXPECT_EQ(IOASID_EVENT_FAULT, ev.type);
	EXPECT_EQ(0, ev.__reserved);
	EXPECT_EQ(0, ev.fault.__reserved);
	EXPECT_TRUE(zero_from(&ev, offsetofend(struct ioasid_event,
					       fault.__reserved)));

	memset(&ev, 0xff, sizeof(ev));
	test_next_event(&ev);
	EXPECT_EQ(IOASID_EVENT_INVAL, ev.type);
	EXPECT_EQ(0, ev.__reserved);
	EXPECT_EQ(0, ev.inval.__reserved);
	EXPECT_TRUE(zero_from(&ev, offsetofend(struct ioasid_event,
					       inval.cookie)));
	test_no_event(self->qfd);
}

TEST_F(events, a_blocking_read_waits_only_for_the_first_record)
{
	struct reader r = {};
	int qfd;

	test_eventq_alloc(self->filter, 16, EVENTS_ALL, 0, NULL, &qfd);
	/* Room for four records; one wakes the reader */
	start_blocked_reader(&r, qfd, sizeof(r.ev));
	test_inject_faults(self->dev, 3 * MIB, 1, 0);
	ASSERT_EQ(0, pthread_join(r.thread, NULL));
	ASSERT_EQ(IOASID_EVENT_SIZE, r.rc);
	EXPECT_EQ(0, r.ev[0].seq);
	EXPECT_FAULT(&r.ev[0], self->ioasid, LABEL, 3 * MIB, IOASID_FAULT_READ,
		     IOASID_FAULT_NOT_MAPPED);
	close(qfd);
}

/*
 * A queue of depth 8 that gets 100 faults: the first 8, then one LOST
 * record for the 92 that did not fit, with no further event needed to
 * deliver it; the next event has seq 100. The fixture's queue, of depth
 * 64, sees the same with other numbers.
 */
static void check_overflow(struct __test_metadata *_metadata, int qfd,
			   uint32_t depth, uint32_t total, uint64_t iova)
{
	struct ioasid_event ev[80];
	bool ended;
	uint32_t i;
	int n;

	memset(ev, 0xff, sizeof(ev));
	n = read_all(qfd, ev, 80, &ended);
	ASSERT_EQ(depth + 1, n);
	EXPECT_FALSE(ended);
	for (i = 0; i != depth; i++) {
		EXPECT_EQ(IOASID_EVENT_FAULT, ev[i].type);
		EXPECT_EQ(i, ev[i].seq);
		EXPECT_EQ(iova + i * PAGE, ev[i].fault.iova);
	}
	EXPECT_EQ(IOASID_EVENT_LOST, ev[depth].type);
	EXPECT_EQ(depth, ev[depth].seq);
	EXPECT_EQ(total - depth, ev[depth].lost.count);
	EXPECT_EQ(0, ev[depth].__reserved);
	EXPECT_TRUE(zero_from(&ev[depth],
			      offsetofend(struct ioasid_event, lost.count)));
}

TEST_F(events, a_full_queue_counts_what_it_drops_in_one_lost_record)
{
	struct ioasid_event ev;
	uint32_t id;
	int qfd;

	test_eventq_alloc(0, 8, IOASID_EVENT_MASK(IOASID_EVENT_FAULT),
			  IOASID_EVENTQ_NONBLOCK, &id, &qfd);
	test_inject_faults(self->dev, 16 * MIB, 100, 0);
	check_overflow(_metadata, qfd, 8, 100, 16 * MIB);
	check_overflow(_metadata, self->qfd, 64, 100, 16 * MIB);

	/* Sequence numbers count the dropped events too */
	test_inject_faults(self->dev, 32 * MIB, 1, IOASID_TEST_INJECT_WRITE);
	test_read_event(qfd, &ev);
	EXPECT_EQ(100, ev.seq);
	EXPECT_FAULT(&ev, self->ioasid, LABEL, 32 * MIB, IOASID_FAULT_WRITE,
		     IOASID_FAULT_NOT_MAPPED);
	test_no_event(qfd);
	close(qfd);
}

TEST_F(events, dma_faults_report_the_page_the_access_and_the_reason)
{
	uint64_t ro = MIB, wo = 2 * MIB;
	struct ioasid_event ev;
	char data[16] = "fault";

	ASSERT_EQ(0, _test_map(self->fd, self->ioasid, self->buf, PAGE, &ro,
			       IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	ASSERT_EQ(0, _test_map(self->fd, self->ioasid, self->buf + PAGE, PAGE,
			       &wo, IOASID_MAP_FIXED_IOVA | IOASID_MAP_WRITE));

	/* Permitted accesses report nothing */
	test_dma_read(self->dev, ro + 8, data, sizeof(data));
	test_dma_write(self->dev, wo + 8, data, sizeof(data));
	test_no_event(self->qfd);

	/* Nothing mapped: the page of the IOVA */
	test_err_dma(ENXIO, self->dev, 4 * MIB + 0x123, data, sizeof(data),
		     false);
	test_next_event(&ev);
	EXPECT_FAULT(&ev, self->ioasid, LABEL, 4 * MIB, IOASID_FAULT_READ,
		     IOASID_FAULT_NOT_MAPPED);
	test_err_dma(ENXIO, self->dev, 5 * MIB + PAGE + 8, data, sizeof(data),
		     true);
	test_next_event(&ev);
	EXPECT_FAULT(&ev, self->ioasid, LABEL, 5 * MIB + PAGE,
		     IOASID_FAULT_WRITE, IOASID_FAULT_NOT_MAPPED);

	/* Mapped, not for this access */
	test_err_dma(EPERM, self->dev, ro + 0x10, data, sizeof(data), true);
	test_next_event(&ev);
	EXPECT_FAULT(&ev, self->ioasid, LABEL, ro, IOASID_FAULT_WRITE,
		     IOASID_FAULT_NOT_PERMITTED);
	test_err_dma(EPERM, self->dev, wo + 0x10, data, sizeof(data), false);
	test_next_event(&ev);
	EXPECT_FAULT(&ev, self->ioasid, LABEL, wo, IOASID_FAULT_READ,
		     IOASID_FAULT_NOT_PERMITTED);
	test_no_event(self->qfd);
}

TEST_F(events, injected_faults_are_a_page_apart)
{
	struct ioasid_event ev;
	int i;

	test_inject_faults(self->dev, 8 * MIB, 4, IOASID_TEST_INJECT_WRITE);
	for (i = 0; i != 4; i++) {
		test_next_event(&ev);
		EXPECT_FAULT(&ev, self->ioasid, LABEL, 8 * MIB + i * PAGE,
			     IOASID_FAULT_WRITE, IOASID_FAULT_NOT_MAPPED);
	}
	test_inject_faults(self->dev, 8 * MIB, 1, 0);
	test_next_event(&ev);
	EXPECT_FAULT(&ev, self->ioasid, LABEL, 8 * MIB, IOASID_FAULT_READ,
		     IOASID_FAULT_NOT_MAPPED);
	test_no_event(self->qfd);
}

TEST_F(events, inject_refuses_a_bad_count_or_flags)
{
	test_err_inject_faults(EINVAL, self->dev, MIB, 0, 0);
	test_err_inject_faults(EINVAL, self->dev, MIB,
			       IOASID_TEST_MAX_INJECT + 1, 0);
	test_err_inject_faults(EOPNOTSUPP, self->dev, MIB, 1,
			       IOASID_TEST_INJECT_LET_GO << 1);
	test_err_inject_faults(ENOENT, self->ioasid, MIB, 1, 0);
	test_no_event(self->qfd);
}

TEST_F(events, a_detached_device_faults_without_an_ioasid)
{
	struct ioasid_event ev;
	char data[8];
	uint32_t never;

	test_detach(self->dev);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, LABEL, 0, WHOLE_SPACE_LAST,
		     IOASID_INVAL_DEVICE_DETACHED, 0);

	/* Blocked: about no IOASID, so only an unfiltered queue sees it */
	test_err_dma(ENXIO, self->dev, MIB, data, sizeof(data), false);
	test_inject_faults(self->dev, 2 * MIB, 1, IOASID_TEST_INJECT_WRITE);
	if (sees(0)) {
		test_next_event(&ev);
		EXPECT_FAULT(&ev, 0, LABEL, MIB, IOASID_FAULT_READ,
			     IOASID_FAULT_NOT_MAPPED);
		test_next_event(&ev);
		EXPECT_FAULT(&ev, 0, LABEL, 2 * MIB, IOASID_FAULT_WRITE,
			     IOASID_FAULT_NOT_MAPPED);
	}
	test_no_event(self->qfd);

	/* A device that was never attached has nothing to report with */
	test_mock_device(IOASID_MOCK_IOMMU_A, &never);
	test_err_dma(ENXIO, never, MIB, data, sizeof(data), false);
	test_err_inject_faults(ENOENT, never, MIB, 1, 0);
	test_no_event(self->qfd);
}

TEST_F(events, unmap_reports_the_range_it_was_given)
{
	struct ioasid_event ev;

	test_map_fixed(self->ioasid, self->buf, 4 * PAGE, MIB);
	test_unmap(self->ioasid, MIB, 4 * PAGE);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB, MIB + 4 * PAGE - 1,
		     IOASID_INVAL_UNMAP, 0);

	/* A range wider than the mapping */
	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, MIB - PAGE, 4 * PAGE,
				 0, NULL));
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB - PAGE, MIB + 3 * PAGE - 1,
		     IOASID_INVAL_UNMAP, 0);

	/* A refused unmap invalidates nothing */
	test_err_unmap(ENOENT, self->ioasid, MIB, 4 * PAGE);
	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	test_err_unmap(EINVAL, self->ioasid, MIB, PAGE);
	test_no_event(self->qfd);
}

TEST_F(events, unmap_all_reports_the_whole_space_once)
{
	struct ioasid_event ev;
	uint64_t unmapped;
	int i;

	for (i = 0; i != 3; i++)
		test_map_fixed(self->ioasid, self->buf + i * PAGE, PAGE,
			       MIB + 2 * i * PAGE);
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, 0, 0,
				 IOASID_UNMAP_ALL, &unmapped));
	EXPECT_EQ(3 * PAGE, unmapped);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, 0, WHOLE_SPACE_LAST,
		     IOASID_INVAL_UNMAP, 0);
	test_no_event(self->qfd);

	/* Emptying an empty IOASID invalidates nothing */
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, 0, 0,
				 IOASID_UNMAP_ALL, &unmapped));
	test_no_event(self->qfd);
}

TEST_F(events, destroying_an_ioasid_reports_it)
{
	struct ioasid_event ev;
	uint32_t other, empty;

	test_alloc(&other);
	test_alloc(&empty);
	test_map_fixed(other, self->buf, 2 * PAGE, MIB);
	test_destroy(other);
	if (sees(other)) {
		test_next_event(&ev);
		EXPECT_INVAL(&ev, other, 0, 0, WHOLE_SPACE_LAST,
			     IOASID_INVAL_IOASID_DESTROYED, 0);
	}
	test_no_event(self->qfd);
	test_pinned(self->buf, 2 * PAGE, 0);

	test_destroy(empty);
	if (sees(empty)) {
		test_next_event(&ev);
		EXPECT_INVAL(&ev, empty, 0, 0, WHOLE_SPACE_LAST,
			     IOASID_INVAL_IOASID_DESTROYED, 0);
	}
	test_no_event(self->qfd);
}

TEST_F(events, detaching_the_device_reports_it_detached)
{
	struct ioasid_event ev;

	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	test_detach(self->dev);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, LABEL, 0, WHOLE_SPACE_LAST,
		     IOASID_INVAL_DEVICE_DETACHED, 0);
	test_no_event(self->qfd);
	/* The mapping stays; only the device went */
	test_pinned(self->buf, PAGE, 1);
}

TEST_F(events, attaching_elsewhere_reports_the_old_ioasid_detached)
{
	struct ioasid_event ev;
	uint32_t other;
	char data[8];

	test_alloc(&other);
	test_attach(self->dev, other, LABEL);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, LABEL, 0, WHOLE_SPACE_LAST,
		     IOASID_INVAL_DEVICE_DETACHED, 0);
	test_no_event(self->qfd);

	/* Its faults are now about the new IOASID */
	test_err_dma(ENXIO, self->dev, MIB, data, sizeof(data), false);
	if (sees(other)) {
		test_next_event(&ev);
		EXPECT_FAULT(&ev, other, LABEL, MIB, IOASID_FAULT_READ,
			     IOASID_FAULT_NOT_MAPPED);
	}
	test_no_event(self->qfd);
}

/*
 * A fault names the IOASID of the domain the IOMMU driver finds the
 * device in when it handles the fault, not the one the DMA went through:
 * VT-d's fault interrupt reads the record the DMA left and looks the
 * device's domain up only then, and the record does not say which I/O
 * page table the DMA used. INJECT is that interrupt, here coming after a
 * replace that raced the faulting DMA: the fault names the new IOASID,
 * after the invalidation that says the device left the old one.
 */
TEST_F(events, a_fault_handled_after_a_replace_names_the_new_ioasid)
{
	struct ioasid_event ev;
	uint32_t other;

	test_alloc(&other);
	/* The device faults at MIB, which neither IOASID maps; then... */
	test_attach(self->dev, other, LABEL);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, LABEL, 0, WHOLE_SPACE_LAST,
		     IOASID_INVAL_DEVICE_DETACHED, 0);
	/* ...the IOMMU's fault interrupt runs */
	test_inject_faults(self->dev, MIB, 1, IOASID_TEST_INJECT_WRITE);
	if (sees(other)) {
		test_next_event(&ev);
		EXPECT_FAULT(&ev, other, LABEL, MIB, IOASID_FAULT_WRITE,
			     IOASID_FAULT_NOT_MAPPED);
	}
	test_no_event(self->qfd);
}

/*
 * A fault held by the mock as an IOMMU driver's fault thread would hold
 * it (AMD's): the domain's handler and token read, the handler not yet
 * called, with no lock and no RCU, so nothing the owner does waits for
 * it.
 */
static int _test_hold_fault(int fd, uint32_t dev, uint64_t iova)
{
	return _test_inject_faults(fd, dev, iova, 1, IOASID_TEST_INJECT_HOLD);
}

static int _test_let_go_fault(int fd)
{
	return _test_inject_faults(fd, 0, 0, 0, IOASID_TEST_INJECT_LET_GO);
}

#define test_hold_fault(dev, iova) \
	ASSERT_EQ(0, _test_hold_fault(self->fd, dev, iova))
#define test_let_go_fault(fd) ASSERT_EQ(0, _test_let_go_fault(fd))

TEST_F(events, a_held_fault_is_reported_while_its_domain_lives)
{
	struct ioasid_event ev;

	test_hold_fault(self->dev, MIB);
	test_no_event(self->qfd);
	test_let_go_fault(self->fd);
	test_next_event(&ev);
	EXPECT_FAULT(&ev, self->ioasid, LABEL, MIB, IOASID_FAULT_READ,
		     IOASID_FAULT_NOT_MAPPED);
	test_no_event(self->qfd);
	/* It was reported once: nothing is held any more */
	EXPECT_ERRNO(ENOENT, _test_let_go_fault(self->fd));
	EXPECT_ERRNO(EINVAL, _test_inject_faults(self->fd, self->dev, MIB, 2,
						 IOASID_TEST_INJECT_HOLD));
	EXPECT_ERRNO(EINVAL, _test_inject_faults(self->fd, 0, 0, 0,
						 IOASID_TEST_INJECT_LET_GO |
						 IOASID_TEST_INJECT_WRITE));
}

/*
 * The handler runs after its domain, the IOASID and the device's binding
 * are gone: it must touch none of them (a use-after-free under KASAN
 * otherwise) and report nothing, as nothing it could name is left.
 */
TEST_F(events, a_fault_held_past_detach_and_destroy_is_dropped)
{
	struct ioasid_event ev;

	test_hold_fault(self->dev, MIB);
	test_detach(self->dev);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, LABEL, 0, WHOLE_SPACE_LAST,
		     IOASID_INVAL_DEVICE_DETACHED, 0);
	test_destroy(self->ioasid);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, 0, WHOLE_SPACE_LAST,
		     IOASID_INVAL_IOASID_DESTROYED, 0);
	test_destroy(self->dev);
	test_no_event(self->qfd);

	test_let_go_fault(self->fd);
	test_no_event(self->qfd);
}

TEST_F(events, a_fault_held_past_the_close_of_the_fd_is_dropped)
{
	struct ioasid_event ev[8];
	bool ended;
	int n, i;

	test_hold_fault(self->dev, MIB);
	/* The context, its IOASID, device and domains all go */
	ASSERT_EQ(0, close(self->fd));
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);

	test_let_go_fault(self->fd);
	/* The queue outlived the context: what it said, then its end */
	n = read_all(self->qfd, ev, 8, &ended);
	ASSERT_LE(1, n);
	EXPECT_TRUE(ended);
	for (i = 0; i != n; i++)
		EXPECT_EQ(IOASID_EVENT_INVAL, ev[i].type);
}

TEST_F(events, destroying_an_attached_device_reports_it_removed)
{
	struct ioasid_event ev;

	test_destroy(self->dev);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, LABEL, 0, WHOLE_SPACE_LAST,
		     IOASID_INVAL_DEVICE_REMOVED, 0);
	test_no_event(self->qfd);
}

TEST_F(events, every_queue_gets_its_own_copy_and_sequence)
{
	struct ioasid_event ev;
	int qfd, i;

	/* The fixture's queue has seen one event before the second exists */
	test_inject_faults(self->dev, MIB, 1, 0);
	test_eventq_alloc(0, 16, EVENTS_ALL, IOASID_EVENTQ_NONBLOCK, NULL,
			  &qfd);
	test_inject_faults(self->dev, 2 * MIB, 2, 0);

	test_next_event(&ev);
	EXPECT_EQ(MIB, ev.fault.iova);
	for (i = 0; i != 2; i++) {
		test_next_event(&ev);
		EXPECT_EQ(2 * MIB + i * PAGE, ev.fault.iova);
		test_read_event(qfd, &ev);
		EXPECT_EQ(i, ev.seq);
		EXPECT_FAULT(&ev, self->ioasid, LABEL, 2 * MIB + i * PAGE,
			     IOASID_FAULT_READ, IOASID_FAULT_NOT_MAPPED);
	}
	test_no_event(self->qfd);
	test_no_event(qfd);
	close(qfd);
}

TEST_F(events, a_queue_gets_only_the_event_types_of_its_mask)
{
	struct ioasid_event ev;
	int faults, invals;

	test_eventq_alloc(0, 16, IOASID_EVENT_MASK(IOASID_EVENT_FAULT),
			  IOASID_EVENTQ_NONBLOCK, NULL, &faults);
	test_eventq_alloc(0, 16, IOASID_EVENT_MASK(IOASID_EVENT_INVAL),
			  IOASID_EVENTQ_NONBLOCK, NULL, &invals);
	test_map_fixed(self->ioasid, self->buf, PAGE, MIB);
	test_unmap(self->ioasid, MIB, PAGE);
	test_inject_faults(self->dev, MIB, 1, 0);

	/* Events a queue does not take do not count in its sequence */
	test_read_event(faults, &ev);
	EXPECT_EQ(0, ev.seq);
	EXPECT_EQ(IOASID_EVENT_FAULT, ev.type);
	test_no_event(faults);
	test_read_event(invals, &ev);
	EXPECT_EQ(0, ev.seq);
	EXPECT_EQ(IOASID_EVENT_INVAL, ev.type);
	test_no_event(invals);
	close(faults);
	close(invals);
}

TEST_F(events, async_unmap_returns_before_the_flush_and_reports_it_done)
{
	struct ioasid_event ev;
	char data[8];

	test_map_fixed(self->ioasid, self->buf, 4 * PAGE, MIB);
	EXPECT_EQ(1, _test_mappings(self->fd, self->ioasid));
	test_async_hold(true);
	test_unmap_async(self->ioasid, MIB, 4 * PAGE, 0xc00c1e);

	/* Out of the IOASID, still pinned, not reported */
	EXPECT_EQ(0, _test_mappings(self->fd, self->ioasid));
	test_pinned(self->buf, 4 * PAGE, 4);
	test_no_event(self->qfd);

	test_async_hold(false);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB, MIB + 4 * PAGE - 1,
		     IOASID_INVAL_ASYNC_UNMAP, 0xc00c1e);
	test_no_event(self->qfd);
	test_pinned(self->buf, 4 * PAGE, 0);
	test_err_dma(ENXIO, self->dev, MIB, data, sizeof(data), false);
	test_next_event(&ev);
	EXPECT_FAULT(&ev, self->ioasid, LABEL, MIB, IOASID_FAULT_READ,
		     IOASID_FAULT_NOT_MAPPED);
}

TEST_F(events, async_unmap_completes_without_being_held)
{
	struct ioasid_event ev;
	int qfd;

	/* Blocking: the completion comes when the kernel gets to it */
	test_eventq_alloc(self->filter, 16, IOASID_EVENT_MASK(IOASID_EVENT_INVAL),
			  0, NULL, &qfd);
	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	test_unmap_async(self->ioasid, MIB, 2 * PAGE, 42);
	ASSERT_EQ(sizeof(ev), read(qfd, &ev, sizeof(ev)));
	EXPECT_EQ(0, ev.seq);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB, MIB + 2 * PAGE - 1,
		     IOASID_INVAL_ASYNC_UNMAP, 42);
	test_pinned(self->buf, 2 * PAGE, 0);
	close(qfd);
}

TEST_F(events, async_unmap_of_nothing_is_enoent_and_reports_nothing)
{
	test_async_hold(true);
	test_err_unmap_async(ENOENT, self->ioasid, MIB, PAGE, 5);
	test_async_hold(false);
	test_no_event(self->qfd);
}

TEST_F(events, held_async_unmaps_share_one_flush)
{
	struct ioasid_test_cmd stats;
	struct ioasid_event ev;
	bool seen[3] = {};
	int i;

	for (i = 0; i != 3; i++)
		test_map_fixed(self->ioasid, self->buf + i * PAGE, PAGE,
			       MIB + 2 * i * PAGE);
	ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev, true, &stats));
	test_async_hold(true);
	for (i = 0; i != 3; i++)
		test_unmap_async(self->ioasid, MIB + 2 * i * PAGE, PAGE,
				 100 + i);
	test_pinned(self->buf, 3 * PAGE, 3);
	test_async_hold(false);

	ASSERT_EQ(0, _test_domain_stats(self->fd, self->dev, false, &stats));
	EXPECT_EQ(mock_unmap_flushes(variant->iommu, 3),
		  stats.domain_stats.out_flushes);
	EXPECT_EQ(0, stats.domain_stats.out_late_unpins);
	test_pinned(self->buf, 3 * PAGE, 0);

	/* One completion per call, each with its cookie and its range */
	for (i = 0; i != 3; i++) {
		uint64_t n;

		test_next_event(&ev);
		EXPECT_EQ(IOASID_INVAL_ASYNC_UNMAP, ev.inval.cause);
		n = ev.inval.cookie - 100;
		ASSERT_GT(3, n);
		EXPECT_FALSE(seen[n]);
		seen[n] = true;
		EXPECT_INVAL(&ev, self->ioasid, 0, MIB + 2 * n * PAGE,
			     MIB + (2 * n + 1) * PAGE - 1,
			     IOASID_INVAL_ASYNC_UNMAP, 100 + n);
	}
	test_no_event(self->qfd);
}

TEST_F(events, a_fixed_map_into_a_pending_range_completes_it_first)
{
	struct ioasid_event ev;
	char back[8];

	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	test_async_hold(true);
	test_unmap_async(self->ioasid, MIB, 2 * PAGE, 7);
	test_no_event(self->qfd);

	/* Other pages at the same IOVA: the old ones must be gone first */
	memcpy(self->buf + 8 * PAGE, "new", sizeof("new"));
	test_map_fixed(self->ioasid, self->buf + 8 * PAGE, 2 * PAGE, MIB);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB, MIB + 2 * PAGE - 1,
		     IOASID_INVAL_ASYNC_UNMAP, 7);
	test_pinned(self->buf, 2 * PAGE, 0);
	test_check_map(self->ioasid, MIB, self->buf + 8 * PAGE, 2 * PAGE);
	test_dma_read(self->dev, MIB, back, sizeof("new"));
	EXPECT_EQ(0, strcmp(back, "new"));

	/* Nothing was left to complete */
	test_async_hold(false);
	test_no_event(self->qfd);
}

/*
 * When a synchronous UNMAP returns, nothing in its range is reachable:
 * not even what an UNMAP_ASYNC took out and left unflushed, which it
 * completes first, and whose completion is reported first.
 */
TEST_F(events, a_sync_unmap_completes_the_async_unmaps_in_its_range)
{
	struct ioasid_event ev;
	uint64_t unmapped;
	char data[8] = "stale";

	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	test_map_fixed(self->ioasid, self->buf + 2 * PAGE, 2 * PAGE,
		       MIB + 2 * PAGE);
	test_async_hold(true);
	test_unmap_async(self->ioasid, MIB, 2 * PAGE, 9);
	test_no_event(self->qfd);

	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, MIB, 4 * PAGE, 0,
				 &unmapped));
	/* The async call already counted its own bytes */
	EXPECT_EQ(2 * PAGE, unmapped);
	test_pinned(self->buf, 4 * PAGE, 0);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB, MIB + 2 * PAGE - 1,
		     IOASID_INVAL_ASYNC_UNMAP, 9);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB, MIB + 4 * PAGE - 1,
		     IOASID_INVAL_UNMAP, 0);
	test_err_dma(ENXIO, self->dev, MIB, data, sizeof(data), true);
	test_next_event(&ev);
	EXPECT_EQ(IOASID_EVENT_FAULT, ev.type);

	/* UNMAP_ALL of an IOASID that holds only a pending unmap */
	test_map_fixed(self->ioasid, self->buf, 2 * PAGE, MIB);
	test_unmap_async(self->ioasid, MIB, 2 * PAGE, 10);
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid, 0, 0,
				 IOASID_UNMAP_ALL, &unmapped));
	EXPECT_EQ(0, unmapped);
	test_pinned(self->buf, 2 * PAGE, 0);
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, MIB, MIB + 2 * PAGE - 1,
		     IOASID_INVAL_ASYNC_UNMAP, 10);
	test_err_dma(ENXIO, self->dev, MIB, data, sizeof(data), true);
	test_next_event(&ev);
	EXPECT_EQ(IOASID_EVENT_FAULT, ev.type);

	/* Nothing was left to complete */
	test_async_hold(false);
	test_no_event(self->qfd);
}

/*
 * A caller that cannot count on the events (no queue, or a LOST record)
 * completes what UNMAP_ASYNC left pending itself, and an UNMAP_ALL|ASYNC
 * of an empty IOASID still reports its cookie.
 */
TEST_F(events, complete_async_returns_once_everything_pending_is_done)
{
	struct ioasid_unmap cmd = {
		.size = sizeof(cmd),
		.flags = IOASID_UNMAP_COMPLETE_ASYNC,
		.ioasid = self->ioasid,
	};
	struct ioasid_event ev;
	int i;

	for (i = 0; i != 2; i++)
		test_map_fixed(self->ioasid, self->buf + 2 * i * PAGE, PAGE,
			       MIB + 2 * i * PAGE);
	test_async_hold(true);
	for (i = 0; i != 2; i++)
		test_unmap_async(self->ioasid, MIB + 2 * i * PAGE, PAGE, 20 + i);
	test_pinned(self->buf, 3 * PAGE, 2);

	/* Bad input changes nothing */
	cmd.iova = MIB;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOASID_UNMAP, &cmd));
	cmd.iova = 0;
	cmd.cookie = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOASID_UNMAP, &cmd));
	cmd.cookie = 0;
	cmd.flags |= IOASID_UNMAP_ALL;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOASID_UNMAP, &cmd));
	cmd.flags = IOASID_UNMAP_COMPLETE_ASYNC;
	test_pinned(self->buf, 3 * PAGE, 2);
	test_no_event(self->qfd);

	cmd.out_length = 1;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_UNMAP, &cmd));
	EXPECT_EQ(0, cmd.out_length);
	test_pinned(self->buf, 3 * PAGE, 0);
	for (i = 0; i != 2; i++) {
		test_next_event(&ev);
		EXPECT_INVAL(&ev, self->ioasid, 0, MIB + 2 * i * PAGE,
			     MIB + (2 * i + 1) * PAGE - 1,
			     IOASID_INVAL_ASYNC_UNMAP, 20 + i);
	}

	/* Nothing mapped: the cookie still comes, when the IOASID is done */
	{
		struct ioasid_unmap all = {
			.size = sizeof(all),
			.flags = IOASID_UNMAP_ALL | IOASID_UNMAP_ASYNC,
			.ioasid = self->ioasid,
			.cookie = 22,
		};

		ASSERT_EQ(0, ioctl(self->fd, IOASID_UNMAP, &all));
		EXPECT_EQ(0, all.out_length);
	}
	test_no_event(self->qfd);
	ASSERT_EQ(0, ioctl(self->fd, IOASID_UNMAP, &cmd));
	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, 0, UINT64_MAX,
		     IOASID_INVAL_ASYNC_UNMAP, 22);

	/* Nothing is pending: completing is a no-op */
	ASSERT_EQ(0, ioctl(self->fd, IOASID_UNMAP, &cmd));
	test_async_hold(false);
	test_no_event(self->qfd);
}

TEST_F(events, a_kernel_chosen_iova_avoids_pending_ranges)
{
	uint64_t len = 16 * PAGE, a = 0, b = 0;
	struct ioasid_event ev;

	ASSERT_EQ(0, _test_map(self->fd, self->ioasid, self->buf, len, &a,
			       MAP_RW));
	test_async_hold(true);
	test_unmap_async(self->ioasid, a, len, 1);
	ASSERT_EQ(0, _test_map(self->fd, self->ioasid, self->buf + len, len,
			       &b, MAP_RW));
	EXPECT_TRUE(b + len <= a || a + len <= b);
	test_async_hold(false);

	test_next_event(&ev);
	EXPECT_INVAL(&ev, self->ioasid, 0, a, a + len - 1,
		     IOASID_INVAL_ASYNC_UNMAP, 1);
	test_no_event(self->qfd);
	test_check_map(self->ioasid, b, self->buf + len, len);
	test_pinned(self->buf, len, 0);
}

TEST_F(events, closing_the_fd_with_held_async_unmaps_unpins_everything)
{
	int fd;

	test_map_fixed(self->ioasid, self->buf, 8 * PAGE, MIB);
	test_async_hold(true);
	test_unmap_async(self->ioasid, MIB, 8 * PAGE, 3);
	test_pinned(self->buf, 8 * PAGE, 8);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, fd);
	EXPECT_EQ(0, _test_pinned(fd, self->buf, 8 * PAGE));
	close(fd);
}

/*
 * After the end of the queue (the ioasid fd closed, or the queue
 * destroyed) the records queued before it are read, then end of file
 * and POLLHUP. Closing the fd destroys the IOASID and the device, which
 * may add invalidations before the end; nothing else may come.
 */
static void check_end(struct __test_metadata *_metadata, int qfd,
		      uint32_t nfaults)
{
	struct ioasid_event ev;
	uint32_t n;
	ssize_t rc;

	for (n = 0; n != 16; n++) {
		/* Never block: a record or the end must be there */
		ASSERT_NE(0, poll_now(qfd) & (POLLIN | POLLHUP));
		rc = read(qfd, &ev, sizeof(ev));
		if (!rc)
			break;
		ASSERT_EQ(sizeof(ev), rc);
		if (n < nfaults) {
			EXPECT_EQ(IOASID_EVENT_FAULT, ev.type);
			EXPECT_EQ(n, ev.seq);
		} else {
			EXPECT_EQ(IOASID_EVENT_INVAL, ev.type);
		}
	}
	ASSERT_LE(nfaults, n);
	ASSERT_GT(16, n);
	/* The end stays the end */
	EXPECT_EQ(0, read(qfd, &ev, sizeof(ev)));
	EXPECT_EQ(POLLHUP, poll_now(qfd) & POLLHUP);
}

TEST_F(events, the_queue_outlives_the_ioasid_fd)
{
	int qfd;

	test_eventq_alloc(self->filter, 16, EVENTS_ALL, 0, NULL, &qfd);
	test_inject_faults(self->dev, MIB, 2, 0);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	check_end(_metadata, self->qfd, 2);
	check_end(_metadata, qfd, 2);
	close(qfd);
}

TEST_F(events, destroying_the_queue_ends_it_after_its_records)
{
	test_inject_faults(self->dev, MIB, 1, 0);
	test_destroy(self->eventq);
	test_err_destroy(ENOENT, self->eventq);
	/* Events after the end are not queued */
	test_inject_faults(self->dev, 2 * MIB, 1, 0);
	check_end(_metadata, self->qfd, 1);
}

TEST_F(events, destroying_the_queue_wakes_a_blocked_reader)
{
	struct reader r = {};
	uint32_t id;
	int qfd;

	test_eventq_alloc(self->filter, 16, EVENTS_ALL, 0, &id, &qfd);
	start_blocked_reader(&r, qfd, sizeof(r.ev));
	test_destroy(id);
	ASSERT_EQ(0, pthread_join(r.thread, NULL));
	EXPECT_EQ(0, r.rc);
	close(qfd);
}

TEST_F(events, a_reader_blocked_in_read_can_be_killed)
{
	int qfd, status;
	pid_t pid;

	test_eventq_alloc(self->filter, 16, EVENTS_ALL, 0, NULL, &qfd);
	pid = fork();
	ASSERT_NE(-1, pid);
	if (!pid) {
		struct ioasid_event ev;

		/* Only SIGKILL ends this */
		if (read(qfd, &ev, sizeof(ev)) < 0)
			_exit(1);
		_exit(0);
	}
	EXPECT_TRUE(wait_task_sleeping(pid, pid));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	close(qfd);
}

/* What IOASID_DEVICE_INFO must say about a device on each mock IOMMU */
static const struct {
	uint64_t pgsize_bitmap;
	uint64_t aperture_last;
	struct ioasid_iova_range resv;
} mock_info[IOASID_MOCK_NUM_IOMMUS] = {
	[IOASID_MOCK_IOMMU_A] = {
		.pgsize_bitmap = (1ULL << 12) | (1ULL << 21) | (1ULL << 30),
		.aperture_last = IOASID_MOCK_A_LAST,
		.resv = { IOASID_MOCK_A_RESV_START, IOASID_MOCK_A_RESV_LAST },
	},
	[IOASID_MOCK_IOMMU_B] = {
		.pgsize_bitmap = 1ULL << 12,
		.aperture_last = IOASID_MOCK_B_LAST,
		.resv = { IOASID_MOCK_B_RESV_START, IOASID_MOCK_B_RESV_LAST },
	},
};

TEST_F(events, device_info_describes_the_attached_device)
{
	struct ioasid_iova_range resv[2];
	struct ioasid_device_info info;
	uint32_t other;

	/* No room: the count, and EMSGSIZE */
	EXPECT_ERRNO(EMSGSIZE, _test_device_info(self->fd, LABEL, &info,
						 NULL, 0));
	EXPECT_EQ(1, info.num_reserved);

	memset(resv, 0xff, sizeof(resv));
	ASSERT_EQ(0, _test_device_info(self->fd, LABEL, &info, resv, 2));
	EXPECT_EQ(self->ioasid, info.out_ioasid);
	EXPECT_EQ(0, info.out_flags & ~(IOASID_DEVICE_MSI_ISOLATED |
					IOASID_DEVICE_COHERENT));
	EXPECT_EQ(mock_info[variant->iommu].pgsize_bitmap,
		  info.out_pgsize_bitmap);
	EXPECT_EQ(0, info.out_aperture_start);
	EXPECT_EQ(mock_info[variant->iommu].aperture_last,
		  info.out_aperture_last);
	ASSERT_EQ(1, info.num_reserved);
	EXPECT_EQ(mock_info[variant->iommu].resv.start, resv[0].start);
	EXPECT_EQ(mock_info[variant->iommu].resv.last, resv[0].last);
	/* Only what there is was written */
	EXPECT_EQ(UINT64_MAX, resv[1].start);
	EXPECT_EQ(UINT64_MAX, resv[1].last);

	/* It follows the device */
	test_alloc(&other);
	test_attach(self->dev, other, LABEL);
	ASSERT_EQ(0, _test_device_info(self->fd, LABEL, &info, resv, 2));
	EXPECT_EQ(other, info.out_ioasid);
	test_detach(self->dev);
	test_err_device_info(ENOENT, LABEL);
}

TEST_F(events, device_info_refuses_unknown_flags_and_an_unknown_label)
{
	struct ioasid_device_info info = { .size = sizeof(info),
					   .label = LABEL };

	/* The label is right: the flags are what is wrong */
	info.flags = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_DEVICE_INFO, &info));
	info.flags = 0;
	info.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_DEVICE_INFO, &info));
	test_err_device_info(ENOENT, LABEL + 1);
	test_err_device_info(ENOENT, 0);
}

/*
 * A read that cannot copy the LOST record out (EFAULT) leaves it queued,
 * as it leaves any record: the next read still reports the gap. A queue
 * of depth 1 has no room for a LOST record and an event, so read()
 * reports its gaps itself. Found by ioasid_fd_fuzz.
 */
TEST_F(events, a_read_that_faults_keeps_the_lost_record)
{
	struct ioasid_event ev;
	uint32_t id;
	void *hole;
	int qfd;

	/* A buffer the kernel cannot write to */
	hole = mmap(NULL, sizeof(ev), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	test_eventq_alloc(0, 1, IOASID_EVENT_MASK(IOASID_EVENT_FAULT),
			  IOASID_EVENTQ_NONBLOCK, &id, &qfd);
	test_inject_faults(self->dev, 16 * MIB, 3, 0);
	test_read_event(qfd, &ev);
	EXPECT_EQ(0, ev.seq);
	EXPECT_ERRNO(EFAULT, read(qfd, hole, sizeof(ev)));
	test_read_event(qfd, &ev);
	EXPECT_EQ(IOASID_EVENT_LOST, ev.type);
	EXPECT_EQ(1, ev.seq);
	EXPECT_EQ(2, ev.lost.count);
	test_no_event(qfd);
	close(qfd);
	test_destroy(id);
	munmap(hole, sizeof(ev));
}

TEST_HARNESS_MAIN
