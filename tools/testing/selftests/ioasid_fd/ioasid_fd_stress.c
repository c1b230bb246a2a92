// SPDX-License-Identifier: GPL-2.0-only
/*
 * Threads racing the calls of one /dev/ioasid fd, on the mock IOMMU.
 * Every thread runs a fixed number of iterations and every call must
 * either succeed or fail with one of the errnos its race allows; no
 * sleep orders anything. What the tests look for is what the kernel
 * would do wrong under the race: a splat (the debug kernel's KASAN and
 * lockdep turn a use-after-free or a bad lock order into one), a pin
 * that outlives everything (teardown counts them), or a device left
 * attached (the last step attaches and DMAs again). Processes race it
 * too: fork() and exit() around MAPs, and SIGKILL in the middle of one.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "ioasid_fd_utils.h"
#include "edu_utils.h"

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
		__atomic_store_n(&r->rounds, i + 1, __ATOMIC_RELEASE);
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

/*
 * fork() and exit() around MAP. The fd is a file: a child forked from a
 * holder shares it, and whatever process calls MAP pins pages of its own
 * mm (pages.c records current->mm), which the mapping holds pinned until
 * it is unmapped or the last holder of the fd is gone, whether or not
 * that mm still has a process. Since the pins are FOLL_LONGTERM, fork()
 * gives the child copies of the pinned pages: the parent's mappings keep
 * meaning the parent's memory. A MAP by a child therefore works and maps
 * the child's memory, counted in the child's VmPin, not the parent's;
 * no errno is involved.
 */
#define CHILD_IOVA(i) (0x40000000UL + (i) * PAGE)
#define CHILD_BYTE(i) ((char)(0xc0 + (i) % 32))

/*
 * A child forked while its parent's threads are inside MAP. Odd ones
 * exit at once. Even ones map a page of their own (their copy of @buf,
 * written first) and check that the device reads the child's bytes, then
 * exit leaving it mapped: the parent finds it still there afterwards.
 */
static int forked_child(int fd, uint32_t ioasid, uint32_t dev, char *buf,
			int i)
{
	uint64_t iova = CHILD_IOVA(i);
	char out[64];

	if (i % 2)
		return 0;
	memset(buf, CHILD_BYTE(i), PAGE);
	if (_test_map(fd, ioasid, buf, PAGE, &iova, MAP_FIXED_RW))
		return 10 + errno;
	if (vm_pin_kb(getpid()) != PAGE / 1024)
		return 2;
	if (_test_dma(fd, dev, iova, out, sizeof(out), false))
		return 3;
	return out[0] == CHILD_BYTE(i) && out[63] == CHILD_BYTE(i) ? 0 : 4;
}

TEST_F_TIMEOUT(stress, forks_during_maps_leave_each_mapping_its_own_pages, 300)
{
	struct racer r[2];
	pthread_t t[2];
	int i, forks = ROUNDS / 50;
	char out[64];

	for (i = 0; i != 2; i++)
		r[i] = (struct racer){
			.fd = self->fd,
			.ioasid = { self->ioasid[0], self->ioasid[1] },
			.dev = self->dev,
			.buf = self->buf,
		};
	ASSERT_EQ(0, pthread_create(&t[0], NULL, map_racer, &r[0]));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, alloc_racer, &r[1]));
	for (i = 0; i != forks; i++) {
		int status;
		pid_t pid;

		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(forked_child(self->fd, self->ioasid[0], self->dev,
					   self->buf + (i % NPAGES) * PAGE, i));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child %d", i);
		if (i % 2)
			continue;
		/* The child is gone, its page stays mapped and pinned */
		ASSERT_EQ(0, _test_dma(self->fd, self->dev, CHILD_IOVA(i), out,
				       sizeof(out), false));
		EXPECT_EQ(CHILD_BYTE(i), out[0]);
		test_unmap(self->ioasid[0], CHILD_IOVA(i), PAGE);
	}
	for (i = 0; i != 2; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, r[i].bad_errno);
		EXPECT_EQ(0, r[i].bad_step);
	}
	/* The parent's memory never saw the children's bytes */
	ASSERT_EQ(0, _test_unmap(self->fd, self->ioasid[0], 0, 0,
				 IOASID_UNMAP_ALL, NULL));
	test_pinned(self->buf, BUF_SIZE, 0);
	test_map_fixed(self->ioasid[0], self->buf, BUF_SIZE, IOVA);
	test_dma_read(self->dev, IOVA + (NPAGES - 1) * PAGE, out, sizeof(out));
	EXPECT_EQ(0x5a, out[0]);
	EXPECT_EQ(0x5a, out[63]);
}

#define HEIR_IOVA 0x80000000UL

/*
 * The heir: forked by the mapper, which exited since. The mapper's
 * mapping still reads the mapper's bytes, none of it is pinned in the
 * heir's mm, and the heir's own MAP pins the heir's own page.
 */
static int heir(int fd, uint32_t ioasid, uint32_t dev, char *buf, int go)
{
	uint64_t iova = HEIR_IOVA + BUF_SIZE;
	char c, out[64];

	if (read(go, &c, 1) != 1)
		return 1;
	if (_test_dma(fd, dev, HEIR_IOVA, out, sizeof(out), false))
		return 2;
	if (out[0] != 0x77 || out[63] != 0x77)
		return 3;
	if (vm_pin_kb(getpid()) != 0)
		return 4;
	memset(buf, 0x99, PAGE);
	if (_test_map(fd, ioasid, buf, PAGE, &iova, MAP_FIXED_RW))
		return 5;
	if (vm_pin_kb(getpid()) != PAGE / 1024)
		return 6;
	if (_test_dma(fd, dev, iova, out, sizeof(out), false) ||
	    out[0] != (char)0x99)
		return 7;
	/* The fork gave the heir a copy: the mapper's page is unchanged */
	if (_test_dma(fd, dev, HEIR_IOVA, out, sizeof(out), false) ||
	    out[0] != 0x77)
		return 8;
	/* Exit with both mappings in place: the last holder goes */
	return 0;
}

/*
 * The mapper maps its memory, keeps MAPs going in threads, forks the heir
 * in the middle of them and exits at once, the threads still inside
 * their calls. Returns only on error.
 */
static int mapper(int fd, uint32_t ioasid, uint32_t dev, char *buf, int go,
		  int report)
{
	struct racer r = {
		.fd = fd,
		.ioasid = { ioasid, ioasid },
		.dev = dev,
		.buf = buf,
	};
	uint64_t iova = HEIR_IOVA;
	pthread_t t;
	int i;
	pid_t pid;

	memset(buf, 0x77, BUF_SIZE);
	if (_test_map(fd, ioasid, buf, BUF_SIZE, &iova, MAP_FIXED_RW))
		return 1;
	if (pthread_create(&t, NULL, map_racer, &r))
		return 2;
	/* Inside the MAP loop, not before it; bounded */
	for (i = 0; i != 1000000 &&
	     __atomic_load_n(&r.rounds, __ATOMIC_ACQUIRE) < 10; i++)
		sched_yield();
	pid = fork();
	if (pid < 0)
		return 3;
	if (!pid)
		_exit(heir(fd, ioasid, dev, buf, go));
	if (write(report, &pid, sizeof(pid)) != sizeof(pid))
		return 4;
	_exit(0);
}

TEST_F_TIMEOUT(stress, the_last_holder_after_the_mapper_exits_releases_all, 300)
{
	int go[2], report[2], status;
	pid_t pid, heir_pid;

	/* The heir is our grandchild: be its reaper when its parent exits */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(report));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(go[1]);
		close(report[0]);
		_exit(100 + mapper(self->fd, self->ioasid[0], self->dev,
				   self->buf, go[0], report[1]));
	}
	close(go[0]);
	close(report[1]);
	/* Only the mapper and its heir hold the fd */
	close(self->fd);
	self->fd = -1;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(heir_pid), read(report[0], &heir_pid, sizeof(heir_pid)));
	close(report[0]);
	/* The mapper's mm is gone, its mapping and pins are not */
	EXPECT_LT(self->pins_at_setup + NPAGES - 1, foll_pins());

	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	ASSERT_EQ(heir_pid, waitpid(heir_pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Teardown: nothing stays pinned now that every holder is gone */
}

/*
 * SIGKILL in the middle of one MAP of a large range: the child writes to
 * a pipe just before the call, we watch its VmPin grow (the pin loop
 * counts each batch there), and kill it. The range is untouched memory
 * in 4KiB pages, so pinning faults in and zeroes every page: hundreds of
 * milliseconds under TCG, which the kill lands in. Nothing may stay
 * pinned or charged, and the IOVA range must be free again.
 */
#define BIG_SIZE (512UL << 20)
#define BIG_IOVA 0x100000000UL	/* 4GiB */

static void big_mapper(int fd, uint32_t ioasid, int report)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	uint64_t iova = BIG_IOVA;
	char *big;

	setrlimit(RLIMIT_MEMLOCK, &rl);
	big = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (big == MAP_FAILED)
		_exit(1);
	madvise(big, BIG_SIZE, MADV_NOHUGEPAGE);
	if (write(report, "m", 1) != 1)
		_exit(2);
	_test_map(fd, ioasid, big, BIG_SIZE, &iova, MAP_FIXED_RW);
	/* Too late: the kill was meant for the middle of the MAP */
	if (write(report, "d", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

TEST_F_TIMEOUT(stress, sigkill_in_a_large_map_leaves_nothing_pinned, 300)
{
	uint64_t deadline, iova = BIG_IOVA;
	int report[2], status;
	int64_t locked;
	long pinned = 0;
	char c;
	pid_t pid;

	locked = _test_locked(self->fd);
	ASSERT_LE(0, locked);
	ASSERT_EQ(0, pipe(report));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(report[0]);
		big_mapper(self->fd, self->ioasid[0], report[1]);
	}
	close(report[1]);
	ASSERT_EQ(1, read(report[0], &c, 1));
	ASSERT_EQ('m', c);

	/* Polled, never slept: the first pinned batch shows in VmPin */
	deadline = time(NULL) + 60;
	while (pinned <= 0 && time(NULL) < deadline) {
		pinned = vm_pin_kb(pid);
		if (pinned < 0)
			break;
		sched_yield();
	}
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_LT(0, pinned) TH_LOG("the child's MAP never pinned anything");
	EXPECT_GT(BIG_SIZE / 1024, pinned);
	TH_LOG("killed with %ld KiB pinned", pinned);
	/* Killed inside the MAP: it never returned, never said "d" */
	EXPECT_EQ(0, read(report[0], &c, 1));
	close(report[0]);

	EXPECT_EQ(self->pins_at_setup, foll_pins());
	EXPECT_EQ(locked, _test_locked(self->fd));
	EXPECT_EQ(0, _test_mappings(self->fd, self->ioasid[0]));
	/* No part of the range was left reserved */
	ASSERT_EQ(0, _test_map(self->fd, self->ioasid[0], self->buf, BUF_SIZE,
			       &iova, MAP_FIXED_RW));
	iova = BIG_IOVA + BIG_SIZE - BUF_SIZE;
	ASSERT_EQ(0, _test_map(self->fd, self->ioasid[0], self->buf, BUF_SIZE,
			       &iova, MAP_FIXED_RW));
}

TEST_HARNESS_MAIN
