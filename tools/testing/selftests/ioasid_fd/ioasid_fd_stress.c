// SPDX-License-Identifier: GPL-2.0-only
/*
 * Threads racing the calls of one /dev/ioasid fd, on the mock IOMMU.
 * Every thread runs a fixed number of iterations and every call must
 * either succeed or fail with one of the errnos its race allows; no
 * sleep orders anything. What the tests look for is what the kernel
 * would do wrong under the race: a splat (the debug kernel's KASAN and
 * lockdep turn a use-after-free or a bad lock order into one), a pin
 * that outlives everything (teardown counts them), or a device left
 * attached (the last step attaches and DMAs again).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "ioasid_fd_utils.h"

#define PAGE 4096UL
#define NPAGES 64UL
#define BUF_SIZE (NPAGES * PAGE)
#define IOVA 0x100000UL
#define ROUNDS_NORMAL 2000
#define ROUNDS rounds()
#define LABEL 0x57e55ULL

/*
 * The debug kernel (KASAN, kmemleak, lockdep) runs these several times
 * slower; it is there to find what goes wrong in a race, which a tenth
 * of the rounds give it as well.
 */
static int rounds(void)
{
	static int n;

	if (!n)
		n = access("/sys/kernel/debug/kmemleak", F_OK) ?
		    ROUNDS_NORMAL : ROUNDS_NORMAL / 10;
	return n;
}

FIXTURE(stress)
{
	int fd;
	uint32_t ioasid[2];
	uint32_t dev;
	char *buf;
	int64_t pins_at_setup;
};

FIXTURE_SETUP(stress)
{
	self->pins_at_setup = foll_pins();
	ASSERT_LE(0, self->pins_at_setup);
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
	test_alloc(&self->ioasid[0]);
	test_alloc(&self->ioasid[1]);
	test_mock_device(IOASID_MOCK_IOMMU_A, &self->dev);
	test_attach(self->dev, self->ioasid[0], LABEL);
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, madvise(self->buf, BUF_SIZE, MADV_NOHUGEPAGE));
	memset(self->buf, 0x5a, BUF_SIZE);
}

FIXTURE_TEARDOWN(stress)
{
	close(self->fd);
	munmap(self->buf, BUF_SIZE);
	EXPECT_EQ(self->pins_at_setup, foll_pins());
}

struct racer {
	int fd;
	uint32_t ioasid[2];
	uint32_t dev;
	char *buf;
	/* The first unexpected errno, 0 if none */
	int bad_errno;
	int bad_step;
	/* Rounds done so far, and whether the racer has stopped */
	int rounds;
	int done;
};

/* UNMAP_ALL, asynchronous with @cookie or not */
static int unmap_all(int fd, uint32_t ioasid, bool async, uint64_t cookie)
{
	struct ioasid_unmap cmd = {
		.size = sizeof(cmd),
		.flags = IOASID_UNMAP_ALL | (async ? IOASID_UNMAP_ASYNC : 0),
		.ioasid = ioasid,
		.cookie = async ? cookie : 0,
	};

	return ioctl(fd, IOASID_UNMAP, &cmd);
}

static void racer_check(struct racer *r, int rc, int step, const int *ok)
{
	if (!rc || r->bad_errno)
		return;
	for (; *ok; ok++)
		if (errno == *ok)
			return;
	r->bad_errno = errno;
	r->bad_step = step;
}

/* The device reads through whatever page table it has at that moment */
static void *dma_racer(void *arg)
{
	static const int ok[] = { ENXIO, 0 };
	struct racer *r = arg;
	char out[256];
	int i;

	for (i = 0; i != ROUNDS; i++)
		racer_check(r, _test_dma(r->fd, r->dev, IOVA, out, sizeof(out),
					 false), 1, ok);
	return NULL;
}

/* Attach elsewhere, back, detach, attach: the page table changes under it */
static void *attach_racer(void *arg)
{
	static const int ok[] = { 0 };
	struct racer *r = arg;
	int i;

	for (i = 0; i != ROUNDS / 4; i++) {
		racer_check(r, _test_attach(r->fd, r->dev, r->ioasid[1], LABEL),
			    1, ok);
		racer_check(r, _test_attach(r->fd, r->dev, r->ioasid[0], LABEL),
			    2, ok);
		racer_check(r, _test_detach(r->fd, r->dev), 3, ok);
		racer_check(r, _test_attach(r->fd, r->dev, r->ioasid[0], LABEL),
			    4, ok);
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, dma_races_attach_detach_and_replace, 300)
{
	struct racer r = {
		.fd = self->fd,
		.ioasid = { self->ioasid[0], self->ioasid[1] },
		.dev = self->dev,
		.buf = self->buf,
	};
	pthread_t dma, attach;
	char out[256];

	test_map_fixed(self->ioasid[0], self->buf, BUF_SIZE, IOVA);
	test_map_fixed(self->ioasid[1], self->buf, BUF_SIZE, IOVA);
	ASSERT_EQ(0, pthread_create(&dma, NULL, dma_racer, &r));
	ASSERT_EQ(0, pthread_create(&attach, NULL, attach_racer, &r));
	ASSERT_EQ(0, pthread_join(dma, NULL));
	ASSERT_EQ(0, pthread_join(attach, NULL));
	EXPECT_EQ(0, r.bad_errno);
	EXPECT_EQ(0, r.bad_step);
	/* Attached to ioasid[0] again at the end, and working */
	test_dma_read(self->dev, IOVA, out, sizeof(out));
	EXPECT_EQ(0x5a, out[0]);
}

/* MAP and UNMAP of one page at a time, at IOVAs the others also use */
static void *map_racer(void *arg)
{
	static const int ok[] = { EEXIST, ENOENT, EBUSY, 0 };
	struct racer *r = arg;
	int i;

	for (i = 0; i != ROUNDS; i++) {
		uint64_t iova = IOVA + (i % NPAGES) * PAGE;

		racer_check(r, _test_map(r->fd, r->ioasid[0],
					 r->buf + (i % NPAGES) * PAGE, PAGE,
					 &iova, MAP_FIXED_RW), 1, ok);
		racer_check(r, _test_unmap(r->fd, r->ioasid[0], iova, PAGE, 0,
					   NULL), 2, ok);
	}
	return NULL;
}

/* UNMAP_ALL, asynchronous or not, and kernel-chosen MAPs */
static void *unmap_all_racer(void *arg)
{
	static const int ok[] = { EEXIST, ENOENT, EBUSY, 0 };
	struct racer *r = arg;
	int i;

	for (i = 0; i != ROUNDS / 2; i++) {
		uint64_t iova = 0;

		racer_check(r, _test_map(r->fd, r->ioasid[0], r->buf, PAGE,
					 &iova, MAP_RW), 1, ok);
		racer_check(r, unmap_all(r->fd, r->ioasid[0], true, i), 2, ok);
		racer_check(r, unmap_all(r->fd, r->ioasid[0], false, 0), 3, ok);
	}
	return NULL;
}

/* New IOASIDs come and go beside the busy one */
static void *alloc_racer(void *arg)
{
	static const int ok[] = { 0 };
	struct racer *r = arg;
	int i;

	for (i = 0; i != ROUNDS / 2; i++) {
		uint32_t id;
		uint64_t iova = IOVA;

		if (_test_alloc(r->fd, &id)) {
			racer_check(r, -1, 1, ok);
			continue;
		}
		racer_check(r, _test_map(r->fd, id, r->buf, BUF_SIZE, &iova,
					 MAP_FIXED_RW), 2, ok);
		racer_check(r, _test_destroy(r->fd, id), 3, ok);
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, map_unmap_unmap_all_and_alloc_destroy_race, 300)
{
	struct racer r[3];
	pthread_t t[3];
	char out[256];
	int i;

	for (i = 0; i != 3; i++)
		r[i] = (struct racer){
			.fd = self->fd,
			.ioasid = { self->ioasid[0], self->ioasid[1] },
			.dev = self->dev,
			.buf = self->buf,
		};
	ASSERT_EQ(0, pthread_create(&t[0], NULL, map_racer, &r[0]));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, unmap_all_racer, &r[1]));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, alloc_racer, &r[2]));
	for (i = 0; i != 3; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, r[i].bad_errno);
		EXPECT_EQ(0, r[i].bad_step);
	}
	/*
	 * Whatever is left goes, and the device still works. An async
	 * UNMAP_ALL may still be pending in the work item: letting go of
	 * the (never taken) hold completes it here and now.
	 */
	ASSERT_EQ(0, _test_async_hold(self->fd, false));
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid[0], 0, 0,
				 IOASID_UNMAP_ALL, NULL));
	test_pinned(self->buf, BUF_SIZE, 0);
	test_map_fixed(self->ioasid[0], self->buf, PAGE, IOVA);
	test_dma_read(self->dev, IOVA, out, sizeof(out));
	EXPECT_EQ(0x5a, out[0]);
}

/* Closing the fd while another thread is inside an ioctl on it */
static void *close_racer(void *arg)
{
	static const int ok[] = { EBADF, EEXIST, ENOENT, EBUSY, 0 };
	struct racer *r = arg;
	int i;

	for (i = 0; i != ROUNDS; i++) {
		uint64_t iova = IOVA;

		racer_check(r, _test_map(r->fd, r->ioasid[0], r->buf, BUF_SIZE,
					 &iova, MAP_FIXED_RW), 1, ok);
		racer_check(r, _test_unmap(r->fd, r->ioasid[0], IOVA,
					   BUF_SIZE, 0, NULL), 2, ok);
		__atomic_store_n(&r->rounds, i + 1, __ATOMIC_RELEASE);
		if (r->bad_errno || errno == EBADF)
			break;
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F_TIMEOUT(stress, closing_the_fd_under_a_running_map_releases_everything, 300)
{
	struct racer r = {
		.ioasid = { self->ioasid[0], self->ioasid[1] },
		.dev = self->dev,
		.buf = self->buf,
	};
	pthread_t t;

	/* A second fd of the same context, closed under the racer */
	r.fd = dup(self->fd);
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, close_racer, &r));
	/* Once it is busy, pull the fd out from under it */
	while (__atomic_load_n(&r.rounds, __ATOMIC_ACQUIRE) < 10 &&
	       !__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
		sched_yield();
	close(r.fd);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, r.bad_errno);
}

TEST_HARNESS_MAIN
