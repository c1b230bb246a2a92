// SPDX-License-Identifier: GPL-2.0-only
/*
 * The io_uring opcodes ioasid_fd_uring needs and liburing 2.3 (Debian 12)
 * does not know, taken from the kernel's own uAPI header.
 *
 * liburing.h carries its own copy of the io_uring uAPI, older than
 * IORING_OP_READ_MULTISHOT (Linux 6.7), under the same include guard as
 * <linux/io_uring.h>: the two cannot be included in one file. This file
 * includes only the kernel's (from KHDR_INCLUDES) and exports the value.
 */
#include <linux/io_uring.h>

const unsigned char ioasid_uring_op_read_multishot = IORING_OP_READ_MULTISHOT;
