// SPDX-License-Identifier: GPL-2.0-only
/*
 * How fast userspace can drain a /dev/ioasid event queue, three ways:
 * read() of one record at a time, read() of many, and one io_uring
 * multishot read into a ring of provided buffers.
 *
 * The events are DMA faults of a mock device, reported by the selftest
 * mock IOMMU (IOASID_TEST_OP_INJECT_FAULTS) as an IOMMU's fault interrupt
 * would: so this needs a kernel built with CONFIG_IOASID_FD_TEST. Each
 * mode gets the same number of events, injected in batches the queue can
 * hold; after each batch the reader drains it, and only the draining is
 * timed. Syscalls are counted on the reading side only: read(), poll()
 * and io_uring_enter(). Every record is checked (type, label, IOASID,
 * consecutive sequence numbers, IOVA).
 *
 *   ioasid-event-bench [EVENTS [BATCH]]   (default 200000 per mode, in
 *                                          batches of 50000)
 *
 * It is a measurement, not a test: it prints a Markdown table.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/*
 * The kernel's own io_uring header first: liburing 2.3 ships an older
 * copy under the same include guard, which then stays out, and the
 * newer one has IORING_OP_READ_MULTISHOT.
 */
#include <linux/io_uring.h>
#include <liburing.h>

#include <linux/ioasid_fd.h>

#include "../../drivers/iommu/ioasid/iofd_test.h"

#define LABEL		0xbe7cULL
#define FAULT_IOVA	0x100000000ULL	/* each fault is a page further */
#define DEPTH		IOASID_EVENTQ_MAX_DEPTH
#define BIG_READ	65536		/* bytes: 1024 records */

/* io_uring: a ring of NBUFS buffers of BIG_READ bytes */
#define BGID		1
#define NBUFS		64		/* a power of two, >= DEPTH * 64 / BIG_READ */

struct bench {
	int fd;			/* /dev/ioasid */
	int qfd;		/* the event queue */
	__u32 ioasid;
	__u32 dev_id;
	__u64 next_seq;		/* the sequence number the next record has */
	__u64 next_iova;	/* the IOVA of the next fault injected */
	__u64 want_iova;	/* the IOVA the next record must carry */
	/* per mode */
	unsigned long long syscalls;
	double seconds;
};

static void die(const char *what)
{
	fprintf(stderr, "ioasid-event-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "ioasid-event-bench: %s\n", what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_cmd(int fd, struct ioasid_test_cmd *cmd, const char *what)
{
	cmd->size = sizeof(*cmd);
	if (ioctl(fd, IOASID_TEST, cmd))
		die(what);
}

static void setup(struct bench *b)
{
	struct ioasid_info info = { .size = sizeof(info) };
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_eventq_alloc eventq = {
		.size = sizeof(eventq),
		.flags = IOASID_EVENTQ_NONBLOCK,
		.depth = DEPTH,
		.event_mask = IOASID_EVENT_MASK(IOASID_EVENT_FAULT),
	};
	struct ioasid_test_cmd cmd;

	b->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (b->fd < 0)
		die("open /dev/ioasid");
	if (ioctl(b->fd, IOASID_INFO, &info))
		die("IOASID_INFO");
	if (!(info.out_capabilities & IOASID_CAP_TEST))
		fail("no IOASID_CAP_TEST: needs CONFIG_IOASID_FD_TEST's mock");
	if (!(info.out_capabilities & IOASID_CAP_EVENTS))
		fail("this kernel has no event queues (no IOASID_CAP_EVENTS)");

	if (ioctl(b->fd, IOASID_ALLOC, &alloc))
		die("IOASID_ALLOC");
	b->ioasid = alloc.out_ioasid;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = IOASID_TEST_OP_MOCK_DEVICE;
	cmd.mock_device.iommu = IOASID_MOCK_IOMMU_A;
	test_cmd(b->fd, &cmd, "IOASID_TEST_OP_MOCK_DEVICE");
	b->dev_id = cmd.mock_device.out_device_id;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = IOASID_TEST_OP_ATTACH;
	cmd.id = b->dev_id;
	cmd.attach.ioasid = b->ioasid;
	cmd.attach.label = LABEL;
	test_cmd(b->fd, &cmd, "IOASID_TEST_OP_ATTACH");

	eventq.ioasid = b->ioasid;
	if (ioctl(b->fd, IOASID_EVENTQ_ALLOC, &eventq))
		die("IOASID_EVENTQ_ALLOC");
	b->qfd = eventq.out_fd;
	b->next_iova = FAULT_IOVA;
	b->want_iova = FAULT_IOVA;
}

/* The mock IOMMU reports @count faults of the mock device */
static void inject(struct bench *b, unsigned int count)
{
	struct ioasid_test_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = IOASID_TEST_OP_INJECT_FAULTS;
	cmd.id = b->dev_id;
	cmd.inject.iova = b->next_iova;
	cmd.inject.count = count;
	test_cmd(b->fd, &cmd, "IOASID_TEST_OP_INJECT_FAULTS");
	b->next_iova += (__u64)count * 4096;
}

/* Check @n records; returns @n */
static unsigned int check(struct bench *b, const struct ioasid_event *e,
			  unsigned int n)
{
	unsigned int i;

	for (i = 0; i != n; i++, e++) {
		if (e->type == IOASID_EVENT_LOST)
			fail("events were lost: the queue overflowed");
		if (e->type != IOASID_EVENT_FAULT || e->label != LABEL ||
		    e->ioasid != b->ioasid || e->seq != b->next_seq ||
		    e->fault.iova != b->want_iova) {
			fprintf(stderr, "record %llu: type %u label 0x%llx",
				(unsigned long long)e->seq, e->type,
				(unsigned long long)e->label);
			fprintf(stderr, " IOASID %u IOVA 0x%llx\n", e->ioasid,
				(unsigned long long)e->fault.iova);
			fail("unexpected record");
		}
		b->next_seq++;
		b->want_iova += 4096;
	}
	return n;
}

/* Nothing to read yet (there should be): wait for it, but not forever */
static void wait_readable(struct bench *b)
{
	struct pollfd pfd = { .fd = b->qfd, .events = POLLIN };
	int rc;

	rc = poll(&pfd, 1, 5000);
	b->syscalls++;
	if (rc < 0)
		die("poll");
	if (!rc)
		fail("injected events did not arrive within 5 s");
}

/* (a) and (b): read() @bytes at a time until @count records came */
static void drain_read(struct bench *b, unsigned int count, void *buf,
		       size_t bytes)
{
	unsigned int got = 0;
	double t = now();
	ssize_t n;

	while (got < count) {
		n = read(b->qfd, buf, bytes);
		b->syscalls++;
		if (n < 0 && errno == EAGAIN) {
			wait_readable(b);
			continue;
		}
		if (n <= 0 || n % IOASID_EVENT_SIZE)
			die("read of the event queue");
		got += check(b, buf, n / IOASID_EVENT_SIZE);
	}
	b->seconds += now() - t;
}

/* (c): one multishot read, and a ring of provided buffers */
static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;

static void uring_arm(struct bench *b)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe)
		fail("no free SQE");
	/* liburing 2.3 has no helper for it: a plain read, another opcode */
	io_uring_prep_read(sqe, b->qfd, NULL, 0, 0);
	sqe->opcode = IORING_OP_READ_MULTISHOT;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	/* Submitted by the next io_uring_submit_and_wait() */
}

static void uring_recycle(unsigned int bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BIG_READ, BIG_READ, bid,
			      io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(br, 1);
}

static void uring_setup(struct bench *b)
{
	struct io_uring_buf_reg reg = {
		.ring_entries = NBUFS,
		.bgid = BGID,
	};
	unsigned int i;
	int rc;

	/*
	 * Completions are produced only when this task enters the ring to
	 * wait for them (DEFER_TASKRUN), as in a VMM's event loop: so the
	 * reading happens in the timed part, and each io_uring_enter()
	 * counted is one that did the work.
	 */
	rc = io_uring_queue_init(2 * NBUFS, &ring, IORING_SETUP_SINGLE_ISSUER |
				 IORING_SETUP_DEFER_TASKRUN);
	if (rc) {
		errno = -rc;
		die("io_uring_queue_init");
	}
	br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf),
		  PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bufs = mmap(NULL, (size_t)NBUFS * BIG_READ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED || bufs == MAP_FAILED)
		die("mmap");
	/* Fault the buffers in now, not in the timed part */
	memset(bufs, 0, (size_t)NBUFS * BIG_READ);
	reg.ring_addr = (uintptr_t)br;
	rc = io_uring_register_buf_ring(&ring, &reg, 0);
	if (rc) {
		errno = -rc;
		die("io_uring_register_buf_ring");
	}
	io_uring_buf_ring_init(br);
	for (i = 0; i != NBUFS; i++)
		uring_recycle(i);
	uring_arm(b);
}

static void drain_uring(struct bench *b, unsigned int count)
{
	struct io_uring_cqe *cqe;
	unsigned int got = 0, head, seen;
	double t = now();
	int rc;

	while (got < count) {
		seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			seen++;
			if (cqe->res < 0 && cqe->res != -ENOBUFS) {
				errno = -cqe->res;
				die("multishot read of the event queue");
			}
			if (cqe->res == 0)
				fail("the event queue ended");
			if (cqe->res > 0) {
				unsigned int bid = cqe->flags >>
						   IORING_CQE_BUFFER_SHIFT;

				got += check(b, (void *)(bufs +
							 (size_t)bid * BIG_READ),
					     cqe->res / IOASID_EVENT_SIZE);
				uring_recycle(bid);
			}
			/* Out of buffers, or stopped: arm it again */
			if (!(cqe->flags & IORING_CQE_F_MORE))
				uring_arm(b);
		}
		io_uring_cq_advance(&ring, seen);
		if (seen || got >= count)
			continue;
		/* One io_uring_enter(): submit what is queued, wait for one */
		rc = io_uring_submit_and_wait(&ring, 1);
		b->syscalls++;
		if (rc < 0) {
			errno = -rc;
			die("io_uring_submit_and_wait");
		}
	}
	b->seconds += now() - t;
}

enum mode { READ_ONE, READ_MANY, URING };

static const char * const mode_names[] = {
	[READ_ONE] = "read(), one record (64 B) per call",
	[READ_MANY] = "read(), 64 KiB (1024 records) per call",
	[URING] = "io_uring multishot read, 64 KiB buffers, DEFER_TASKRUN",
};

int main(int argc, char **argv)
{
	unsigned int events = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000;
	unsigned int batch = argc > 2 ? strtoul(argv[2], NULL, 0) : 50000;
	static struct ioasid_event buf[BIG_READ / IOASID_EVENT_SIZE];
	double inject_time = 0, t;
	struct bench b = {};
	unsigned int done, n;
	int mode;

	if (!events || !batch || batch > DEPTH)
		fail("usage: ioasid-event-bench [EVENTS [BATCH <= 65536]]");
	setup(&b);
	uring_setup(&b);

	printf("%u fault events per mode, injected by the mock IOMMU", events);
	printf(" in batches of %u (queue depth %u).\n", batch, DEPTH);
	printf("Only the draining is timed; syscalls are the reader's.\n\n");
	printf("| mode | events/s | syscalls | events/syscall |\n");
	printf("| --- | ---: | ---: | ---: |\n");
	for (mode = READ_ONE; mode <= URING; mode++) {
		b.syscalls = 0;
		b.seconds = 0;
		for (done = 0; done < events; done += n) {
			n = events - done < batch ? events - done : batch;
			t = now();
			inject(&b, n);
			inject_time += now() - t;
			switch (mode) {
			case READ_ONE:
				drain_read(&b, n, buf, IOASID_EVENT_SIZE);
				break;
			case READ_MANY:
				drain_read(&b, n, buf, sizeof(buf));
				break;
			case URING:
				drain_uring(&b, n);
				break;
			}
		}
		printf("| %s | %.0f | %llu | %.1f |\n", mode_names[mode],
		       events / b.seconds, b.syscalls,
		       b.syscalls ? (double)events / b.syscalls : 0.0);
	}
	printf("\nInjecting took %.2f s in all (%.0f events/s).\n",
	       inject_time, 3.0 * events / inject_time);

	io_uring_queue_exit(&ring);
	close(b.qfd);
	close(b.fd);
	return 0;
}
