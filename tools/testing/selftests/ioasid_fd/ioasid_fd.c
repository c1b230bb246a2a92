// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests of /dev/ioasid that need no device: the fd, the ioctl
 * conventions and the objects of an ioasid context.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "ioasid_fd_utils.h"

FIXTURE(ioasid_fd)
{
	int fd;
};

FIXTURE_SETUP(ioasid_fd)
{
	self->fd = open(IOASID_DEV, O_RDWR);
	ASSERT_NE(-1, self->fd);
}

FIXTURE_TEARDOWN(ioasid_fd)
{
	close(self->fd);
}

TEST(device_node_is_a_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(IOASID_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(open_and_close_many_times)
{
	int fds[64];
	int i;

	for (i = 0; i != 64; i++) {
		fds[i] = open(IOASID_DEV, O_RDWR);
		ASSERT_NE(-1, fds[i]);
	}
	for (i = 0; i != 64; i++)
		ASSERT_EQ(0, close(fds[i]));
}

TEST_F(ioasid_fd, info_reports_version_and_capabilities)
{
	struct ioasid_info info;

	test_cmd_info(&info);
	EXPECT_EQ(IOASID_API_VERSION, info.out_api_version);
	/* The rig's kernel is built with the mock */
	EXPECT_TRUE(info.out_capabilities & IOASID_CAP_TEST);
	EXPECT_EQ(0, info.__reserved);
}

TEST_F(ioasid_fd, info_follows_the_size_rules)
{
	TEST_LENGTH(ioasid_info, IOASID_INFO, out_capabilities);
}

TEST_F(ioasid_fd, info_refuses_unknown_flags_and_reserved)
{
	struct ioasid_info info = { .size = sizeof(info), .flags = 1 };

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_INFO, &info));
	info.flags = 0;
	info.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOASID_INFO, &info));
}

TEST_F(ioasid_fd, info_writes_only_what_userspace_passed)
{
	struct {
		struct ioasid_info info;
		uint64_t guard;
	} buf;

	/* A structure of the first release gets nothing past its end */
	memset(&buf, 0xff, sizeof(buf));
	buf.info.size = sizeof(buf.info);
	buf.info.flags = 0;
	buf.info.__reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_INFO, &buf.info));
	EXPECT_EQ(UINT64_MAX, buf.guard);
}

TEST_F(ioasid_fd, info_faults_on_a_bad_pointer)
{
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOASID_INFO, NULL));
}

TEST_F(ioasid_fd, unknown_ioctl_is_enotty)
{
	struct ioasid_info info = { .size = sizeof(info) };

	/* Our type, a number past the table */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(IOASID_FD_TYPE, 0x7f), &info));
	/* Another subsystem's type with our number */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(';', IOASID_CMD_INFO), &info));
	/* Our number, with a size and direction encoded */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd,
				   _IOWR(IOASID_FD_TYPE, IOASID_CMD_INFO,
					 struct ioasid_info), &info));
}

TEST_HARNESS_MAIN
