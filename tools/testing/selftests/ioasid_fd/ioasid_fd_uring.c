// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_uring on a /dev/ioasid event queue: one multishot read, fed by a
 * ring of provided buffers, receives every event while it stays armed;
 * a plain read and a poll complete when a record arrives.
 *
 * The queue's fd is blocking on purpose. io_uring then reads it with
 * IOCB_NOWAIT and waits with poll, which works only if the file supports
 * FMODE_NOWAIT and poll; otherwise io_uring hands the read to a worker
 * thread ("iou-wrk-<pid>"), blocked in read() for as long as nothing
 * comes. Each test checks, while its request waits and at the end, that
 * the process has no thread but its own.
 *
 * liburing 2.3 has no io_uring_prep_read_multishot(): the request is a
 * read SQE with the opcode IORING_OP_READ_MULTISHOT, which comes from
 * the kernel's header through ioasid_fd_uring_op.c.
 */
#include <dirent.h>
#include <liburing.h>
#include <sys/mman.h>

#include "ioasid_fd_utils.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024)
#define LABEL 0x10ba1ULL

/* The provided buffers: each holds four records */
#define BGID 7
#define NBUFS 16
#define BUF_LEN (4 * IOASID_EVENT_SIZE)

/*
 * The multishot test: NEVENTS faults in batches of BATCH. A batch needs
 * at most BATCH buffers and CQEs (one record each, at worst), so the
 * read never runs out of either while the test reaps between batches.
 */
#define NEVENTS 64
#define BATCH 8
#define FAULT_IOVA (16 * MIB)
#define RING_ENTRIES 32

#define MSHOT_TAG 0x4d5348ULL
#define READ_TAG 0x524541ULL
#define POLL_TAG 0x504f4cULL

/*
 * Threads of this process whose name starts with @prefix (all of them
 * for ""), or -1
 */
static int count_threads(const char *prefix)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	dir = opendir("/proc/self/task");
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		char path[300], comm[32] = "";
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 d->d_name);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			if (read(fd, comm, sizeof(comm) - 1) < 0)
				comm[0] = 0;
			close(fd);
		}
		if (!strncmp(comm, prefix, strlen(prefix)))
			n++;
	}
	closedir(dir);
	return n;
}

/*
 * io_uring did everything in this thread: no worker now, and no thread
 * at all but this one (a worker just created may not have its name yet)
 */
#define EXPECT_NO_IO_WORKER()                                                 \
	do {                                                                  \
		EXPECT_EQ(0, count_threads("iou-wrk-"));                      \
		EXPECT_EQ(1, count_threads(""));                              \
	} while (0)

/* The next CQE, which must come within 10s, or fail */
static int wait_cqe(struct io_uring *ring, struct io_uring_cqe **cqe)
{
	struct __kernel_timespec ts = { .tv_sec = 10 };

	return io_uring_wait_cqe_timeout(ring, cqe, &ts);
}

static void prep_read_multishot(struct io_uring_sqe *sqe, int fd, int bgid)
{
	/* Length 0, no address: each read fills one provided buffer */
	io_uring_prep_read(sqe, fd, NULL, 0, 0);
	sqe->opcode = ioasid_uring_op_read_multishot;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = bgid;
}

/* Register a ring of NBUFS buffers of BUF_LEN bytes at @bufs as BGID */
static struct io_uring_buf_ring *buf_ring_setup(struct io_uring *ring,
						char *bufs)
{
	size_t size = NBUFS * sizeof(struct io_uring_buf);
	struct io_uring_buf_reg reg = {};
	struct io_uring_buf_ring *br;
	int i;

	/* Page-aligned, as registration requires */
	br = mmap(NULL, size, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED)
		return NULL;
	reg.ring_addr = (uintptr_t)br;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	if (io_uring_register_buf_ring(ring, &reg, 0)) {
		munmap(br, size);
		return NULL;
	}
	io_uring_buf_ring_init(br);
	for (i = 0; i != NBUFS; i++)
		io_uring_buf_ring_add(br, bufs + i * BUF_LEN, BUF_LEN, i,
				      io_uring_buf_ring_mask(NBUFS), i);
	io_uring_buf_ring_advance(br, NBUFS);
	return br;
}

/* Hand buffer @bid back to the kernel */
static void buf_ring_recycle(struct io_uring_buf_ring *br, char *bufs,
			     unsigned int bid)
{
	io_uring_buf_ring_add(br, bufs + bid * BUF_LEN, BUF_LEN, bid,
			      io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(br, 1);
}

/*
 * One IOASID, one mock device attached to it, a blocking event queue for
 * both event types, and a ring with RING_ENTRIES SQEs (twice as many
 * CQEs).
 */
FIXTURE(uring)
{
	struct io_uring ring;
	bool have_ring;
	int fd;
	uint32_t ioasid;
	uint32_t dev;
	uint32_t eventq;
	int qfd;
	char *bufs;
	struct io_uring_buf_ring *br;
	int64_t pins_at_setup;
};

FIXTURE_SETUP(uring)
{
	int rc;

	rc = io_uring_queue_init(RING_ENTRIES, &self->ring, 0);
	if (rc == -ENOSYS)
		SKIP(return, "io_uring is not available (ENOSYS)");
	ASSERT_EQ(0, rc);
	self->have_ring = true;

	self->pins_at_setup = foll_pins();
	ASSERT_LE(0, self->pins_at_setup);
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
	test_alloc(&self->ioasid);
	test_mock_device(IOASID_MOCK_IOMMU_A, &self->dev);
	test_attach(self->dev, self->ioasid, LABEL);
	test_eventq_alloc(0, 256, EVENTS_ALL, 0, &self->eventq, &self->qfd);
	ASSERT_EQ(0, fcntl(self->qfd, F_GETFL) & O_NONBLOCK);

	self->bufs = mmap(NULL, NBUFS * BUF_LEN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->bufs);
}

FIXTURE_TEARDOWN(uring)
{
	/*
	 * The buffer ring pins its page until it is unregistered; left to
	 * io_uring_queue_exit() it is unpinned later, by io_uring's exit
	 * work, and the pin count below would race with that.
	 */
	if (self->br)
		io_uring_unregister_buf_ring(&self->ring, BGID);
	/* Cancels what is still armed */
	if (self->have_ring)
		io_uring_queue_exit(&self->ring);
	close(self->qfd);
	close(self->fd);
	EXPECT_EQ(self->pins_at_setup, foll_pins());
}

/*
 * The records of one multishot CQE: faults of @ioasid from *@seq on (and
 * before @end), a page apart from FAULT_IOVA. The buffer goes back to
 * the ring.
 */
static void reap_multishot(struct __test_metadata *_metadata,
			   struct io_uring_cqe *cqe,
			   struct io_uring_buf_ring *br, char *bufs,
			   uint32_t ioasid, uint64_t *seq, uint64_t end)
{
	struct ioasid_event *ev;
	unsigned int bid, i;

	ASSERT_EQ(MSHOT_TAG, cqe->user_data);
	/* A negative res is the errno that ended the read */
	ASSERT_LT(0, cqe->res);
	ASSERT_EQ(0, cqe->res % IOASID_EVENT_SIZE);
	ASSERT_GE(BUF_LEN, cqe->res);
	ASSERT_TRUE(cqe->flags & IORING_CQE_F_MORE);
	ASSERT_TRUE(cqe->flags & IORING_CQE_F_BUFFER);
	bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	ASSERT_GT(NBUFS, bid);

	ev = (struct ioasid_event *)(bufs + bid * BUF_LEN);
	for (i = 0; i != cqe->res / IOASID_EVENT_SIZE; i++, (*seq)++) {
		ASSERT_GT(end, *seq);
		EXPECT_EQ(IOASID_EVENT_FAULT, ev[i].type);
		EXPECT_EQ(*seq, ev[i].seq);
		EXPECT_EQ(ioasid, ev[i].ioasid);
		EXPECT_EQ(LABEL, ev[i].label);
		EXPECT_EQ(FAULT_IOVA + *seq * PAGE, ev[i].fault.iova);
	}
	buf_ring_recycle(br, bufs, bid);
}

/* Reap the next CQE of the fixture's multishot read */
#define test_reap_multishot(seq, end)                                         \
	({                                                                    \
		struct io_uring_cqe *__cqe;                                   \
									      \
		ASSERT_EQ(0, wait_cqe(&self->ring, &__cqe));                  \
		reap_multishot(_metadata, __cqe, self->br, self->bufs,        \
			       self->ioasid, seq, end);                       \
		io_uring_cqe_seen(&self->ring, __cqe);                        \
	})

/* Arm a multishot read of the queue on the fixture's buffer ring */
#define arm_multishot()                                                       \
	({                                                                    \
		struct io_uring_sqe *__sqe;                                   \
		struct io_uring_cqe *__cqe;                                   \
									      \
		self->br = buf_ring_setup(&self->ring, self->bufs);           \
		ASSERT_NE(NULL, self->br);                                    \
		__sqe = io_uring_get_sqe(&self->ring);                        \
		ASSERT_NE(NULL, __sqe);                                       \
		prep_read_multishot(__sqe, self->qfd, BGID);                  \
		io_uring_sqe_set_data64(__sqe, MSHOT_TAG);                    \
		ASSERT_EQ(1, io_uring_submit(&self->ring));                   \
		/* Nothing to read: waiting on poll, not in a worker */       \
		EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &__cqe));   \
		EXPECT_NO_IO_WORKER();                                        \
	})

TEST_F(uring, one_multishot_read_receives_every_event_without_a_worker)
{
	struct io_uring_cqe *cqe;
	uint64_t seq = 0, end;

	arm_multishot();
	for (end = BATCH; end <= NEVENTS; end += BATCH) {
		test_inject_faults(self->dev, FAULT_IOVA + seq * PAGE, BATCH, 0);
		while (seq != end)
			test_reap_multishot(&seq, end);
		EXPECT_NO_IO_WORKER();
	}
	/* All of them, nothing more, and the read is still armed */
	EXPECT_EQ(NEVENTS, seq);
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	test_inject_faults(self->dev, FAULT_IOVA + seq * PAGE, 1, 0);
	test_reap_multishot(&seq, NEVENTS + 1);
	EXPECT_NO_IO_WORKER();
}

TEST_F(uring, multishot_read_ends_with_the_queue)
{
	struct io_uring_cqe *cqe;
	uint64_t seq = 0;

	arm_multishot();
	test_inject_faults(self->dev, FAULT_IOVA, 2, 0);
	while (seq != 2)
		test_reap_multishot(&seq, 2);
	/* End of file completes the read, without IORING_CQE_F_MORE */
	test_destroy(self->eventq);
	ASSERT_EQ(0, wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(MSHOT_TAG, cqe->user_data);
	EXPECT_EQ(0, cqe->res);
	EXPECT_FALSE(cqe->flags & IORING_CQE_F_MORE);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_NO_IO_WORKER();
}

TEST_F(uring, read_completes_when_a_record_arrives)
{
	struct ioasid_event ev[2];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	memset(ev, 0xff, sizeof(ev));
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_read(sqe, self->qfd, ev, sizeof(ev), 0);
	io_uring_sqe_set_data64(sqe, READ_TAG);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	EXPECT_NO_IO_WORKER();

	test_inject_faults(self->dev, FAULT_IOVA, 1, IOASID_TEST_INJECT_WRITE);
	ASSERT_EQ(0, wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(READ_TAG, cqe->user_data);
	ASSERT_EQ(IOASID_EVENT_SIZE, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(IOASID_EVENT_FAULT, ev[0].type);
	EXPECT_EQ(0, ev[0].seq);
	EXPECT_EQ(FAULT_IOVA, ev[0].fault.iova);
	EXPECT_EQ(IOASID_FAULT_WRITE, ev[0].fault.access);
	EXPECT_NO_IO_WORKER();
}

TEST_F(uring, poll_add_reports_pollin_when_a_record_arrives)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct ioasid_event ev;

	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_poll_add(sqe, self->qfd, POLLIN);
	io_uring_sqe_set_data64(sqe, POLL_TAG);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));

	test_inject_faults(self->dev, FAULT_IOVA, 1, 0);
	ASSERT_EQ(0, wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(POLL_TAG, cqe->user_data);
	ASSERT_LT(0, cqe->res);
	EXPECT_TRUE(cqe->res & POLLIN);
	io_uring_cqe_seen(&self->ring, cqe);

	/* The record is there: a blocking read returns it at once */
	ASSERT_EQ(sizeof(ev), read(self->qfd, &ev, sizeof(ev)));
	EXPECT_EQ(0, ev.seq);
	EXPECT_NO_IO_WORKER();
}

TEST_HARNESS_MAIN
