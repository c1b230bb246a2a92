/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __IOFD_PRIVATE_H
#define __IOFD_PRIVATE_H

#include <linux/types.h>

/*
 * struct iofd_ctx - one open /dev/ioasid
 *
 * Everything a process creates through the fd hangs off this context and
 * goes away with its last reference (close, or exit of every process the
 * fd was passed to).
 */
struct iofd_ctx {
	struct file *file;
};

/* One ioctl call, as seen by a handler after the generic checks */
struct iofd_ucmd {
	struct iofd_ctx *ictx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int iofd_ucmd_respond(struct iofd_ucmd *ucmd, size_t cmd_len);

#endif
