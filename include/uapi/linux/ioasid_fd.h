/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/ioasid: I/O address spaces owned by userspace.
 */
#ifndef _UAPI_LINUX_IOASID_FD_H
#define _UAPI_LINUX_IOASID_FD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: ioctl conventions
 *
 * Every ioctl on /dev/ioasid takes a pointer to a structure whose first
 * member is ``__u32 size``: the number of bytes userspace passes. The
 * size is not encoded in the ioctl number (they are all ``_IO()``), so a
 * structure can grow at its end without a new ioctl number: a kernel that
 * knows fewer fields than userspace accepts the call as long as the bytes
 * it does not know are zero, and a newer kernel treats the missing tail
 * of an older, shorter structure as zero.
 *
 * Unless an ioctl documents otherwise, these errnos mean the same thing
 * everywhere, and a call that fails changes nothing:
 *
 * - ENOTTY: the ioctl number is unknown.
 * - EINVAL: @size is smaller than the first release of the structure, or
 *   a known field holds a value that is not valid for it.
 * - E2BIG: @size is larger than the kernel knows and a byte beyond what
 *   it knows is non-zero.
 * - EOPNOTSUPP: a flag bit the kernel does not know is set, or a
 *   reserved field is not zero.
 * - EFAULT: the structure, or memory it points to, cannot be accessed.
 * - ENOENT: an object ID, or an IOVA range, does not exist.
 * - ENOMEM: out of memory, or (for pinning) over RLIMIT_MEMLOCK.
 * - EOVERFLOW: arithmetic on a user value (IOVA + length) overflowed.
 */

#define IOASID_FD_TYPE 0xB9

enum {
	IOASID_CMD_BASE = 0x00,
	IOASID_CMD_INFO = IOASID_CMD_BASE,
};

/* The version reported by IOASID_INFO; bumped only for incompatible changes */
#define IOASID_API_VERSION 1

/**
 * struct ioasid_info - ioctl(IOASID_INFO)
 * @size: sizeof(struct ioasid_info)
 * @flags: must be 0
 * @out_api_version: IOASID_API_VERSION of the kernel
 * @__reserved: must be 0
 * @out_capabilities: bitmap of &enum ioasid_capability the kernel offers
 *
 * Report what this kernel's /dev/ioasid implements. Userspace should check
 * @out_api_version once, then test @out_capabilities before relying on an
 * optional feature. It is valid on any open /dev/ioasid.
 */
struct ioasid_info {
	__u32 size;
	__u32 flags;
	__u32 out_api_version;
	__u32 __reserved;
	__aligned_u64 out_capabilities;
};

#define IOASID_INFO _IO(IOASID_FD_TYPE, IOASID_CMD_INFO)

/**
 * enum ioasid_capability - optional features reported by IOASID_INFO
 * @IOASID_CAP_TEST: the kernel was built with the selftest mock
 *	(CONFIG_IOASID_FD_TEST); never set on a production kernel
 */
enum ioasid_capability {
	IOASID_CAP_TEST = 1 << 0,
};

#endif
