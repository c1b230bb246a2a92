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
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ioasid_fd.h>

#include "../kselftest_harness.h"

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

#endif
