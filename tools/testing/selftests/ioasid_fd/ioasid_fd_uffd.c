// SPDX-License-Identifier: GPL-2.0-only
/*
 * Calls whose user memory stalls: userfaultfd holds a copy to or from
 * userspace inside the kernel for as long as the test wants, which puts
 * the other calls of the test exactly in the window a slow or malicious
 * user could open. Two findings of a review are pinned down here:
 *
 *  - IOASID_IOVA_RANGES must copy its ranges out with no lock held: a
 *    reader stalled on a page must not block a MAP of the same IOASID
 *    (or, through the IOVA space's locks, a VFIO close sharing them);
 *  - a MAP whose reply cannot be written back undoes its own mapping,
 *    after its locks were dropped: it must not remove a mapping another
 *    thread made at the same IOVA in the meantime.
 *
 * The stall is observed, not waited for: the test reads the fault from
 * the userfaultfd before it acts, so no sleep orders anything.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "ioasid_fd_utils.h"

#define PAGE 4096UL
#define NPAGES 16UL
#define BUF_SIZE (NPAGES * PAGE)
#define IOVA 0x400000UL

FIXTURE(uffd)
{
	int fd;
	int uffd;
	uint32_t ioasid;
	char *buf;	/* mapped by the test */
	void *page;	/* registered with the userfaultfd */
	int64_t pins_at_setup;
};

FIXTURE_SETUP(uffd)
{
	struct uffdio_api api = { .api = UFFD_API };

	self->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (self->uffd < 0)
		SKIP(return, "no userfaultfd (CONFIG_USERFAULTFD=n): %s",
		     strerror(errno));
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_API, &api));
	self->pins_at_setup = foll_pins();
	ASSERT_LE(0, self->pins_at_setup);
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
	test_alloc(&self->ioasid);
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0x5a, BUF_SIZE);
	self->page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
}

FIXTURE_TEARDOWN(uffd)
{
	if (self->uffd < 0)
		return;
	close(self->uffd);
	close(self->fd);
	/* Every pin the test made went with its fd */
	EXPECT_EQ(self->pins_at_setup, foll_pins());
}

/* Register the fixture's page for missing or write-protect faults */
static int uffd_register(int uffd, void *page, uint64_t mode)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)page, .len = PAGE },
		.mode = mode,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &reg);
}

/*
 * Wait (10s at most) until a thread faults on the registered page: it
 * is then stalled inside the kernel's copy. Returns the fault's flags,
 * or -1.
 */
static int64_t uffd_wait_fault(int uffd)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, 10000) != 1)
		return -1;
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return -1;
	return msg.arg.pagefault.flags;
}

struct stalled_call {
	int fd;
	uint32_t ioasid;
	void *arg;	/* in the registered page */
	int rc;
	int err;
};

static void *iova_ranges_thread(void *p)
{
	struct stalled_call *c = p;
	uint32_t num = PAGE / sizeof(struct ioasid_iova_range);

	c->rc = _test_iova_ranges(c->fd, c->ioasid, c->arg, &num, NULL);
	c->err = errno;
	return NULL;
}

TEST_F_TIMEOUT(uffd, iova_ranges_copies_out_with_no_lock_held, 60)
{
	struct stalled_call c = {
		.fd = self->fd, .ioasid = self->ioasid, .arg = self->page,
	};
	struct uffdio_zeropage zero = {
		.range = { .start = (uintptr_t)self->page, .len = PAGE },
	};
	struct ioasid_iova_range *r = self->page;
	pthread_t thread;

	/* The ranges go to a page that is not there yet */
	ASSERT_EQ(0, uffd_register(self->uffd, self->page,
				   UFFDIO_REGISTER_MODE_MISSING));
	ASSERT_EQ(0, pthread_create(&thread, NULL, iova_ranges_thread, &c));
	ASSERT_LE(0, uffd_wait_fault(self->uffd));

	/*
	 * The reader is stalled in its copy-out. MAP and UNMAP of the same
	 * IOASID take its IOVA locks for writing: with the copy made under
	 * them, they would wait for the reader, and the test time out.
	 */
	test_map_fixed(self->ioasid, self->buf, BUF_SIZE, IOVA);
	test_unmap(self->ioasid, IOVA, BUF_SIZE);

	/* Let the reader go: it finishes with every range written */
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_ZEROPAGE, &zero));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, c.rc);
	EXPECT_LT(0, r[0].last);
}

static void *map_thread(void *p)
{
	struct stalled_call *c = p;

	c->rc = ioctl(c->fd, IOASID_MAP, c->arg);
	c->err = errno;
	return NULL;
}

TEST_F_TIMEOUT(uffd, a_failed_map_reply_removes_only_its_own_mapping, 60)
{
	struct stalled_call c = {
		.fd = self->fd, .ioasid = self->ioasid, .arg = self->page,
	};
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)self->page, .len = PAGE },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	struct uffdio_range wake = {
		.start = (uintptr_t)self->page, .len = PAGE,
	};
	struct ioasid_map *cmd = self->page;
	char *other;
	pthread_t thread;
	int64_t flags;

	other = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, other);
	memset(other, 0xa5, BUF_SIZE);

	/* The MAP's command is readable, but its reply write will stall */
	*cmd = (struct ioasid_map){
		.size = sizeof(*cmd),
		.flags = MAP_FIXED_RW,
		.ioasid = self->ioasid,
		.user_va = (uintptr_t)self->buf,
		.length = BUF_SIZE,
		.iova = IOVA,
	};
	if (uffd_register(self->uffd, self->page, UFFDIO_REGISTER_MODE_WP))
		SKIP(return, "no userfaultfd write-protect: %s",
		     strerror(errno));
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_WRITEPROTECT, &wp));
	ASSERT_EQ(0, pthread_create(&thread, NULL, map_thread, &c));
	flags = uffd_wait_fault(self->uffd);
	ASSERT_LE(0, flags);
	ASSERT_TRUE(flags & UFFD_PAGEFAULT_FLAG_WP);

	/*
	 * The MAP has mapped the range and dropped its locks; it is
	 * writing its reply. Meanwhile another user of the fd takes the
	 * IOVA over: unmap the stalled MAP's range and map other memory
	 * at the same IOVA.
	 */
	test_check_map(self->ioasid, IOVA, self->buf, BUF_SIZE);
	test_unmap(self->ioasid, IOVA, BUF_SIZE);
	test_map_fixed(self->ioasid, other, BUF_SIZE, IOVA);

	/* Make the reply fail: the page turns read-only, then wake the MAP */
	ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ));
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_WAKE, &wake));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(-1, c.rc);
	ASSERT_EQ(EFAULT, c.err);

	/* Its undo removed nothing of the other mapping */
	EXPECT_EQ(1, _test_mappings(self->fd, self->ioasid));
	test_check_map(self->ioasid, IOVA, other, BUF_SIZE);
	EXPECT_EQ(NPAGES, _test_pinned(self->fd, other, BUF_SIZE));
	EXPECT_EQ(0, _test_pinned(self->fd, self->buf, BUF_SIZE));
	test_unmap(self->ioasid, IOVA, BUF_SIZE);
	munmap(other, BUF_SIZE);
}

TEST_HARNESS_MAIN
