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
 * - EBUSY: the object is in use (a device is attached to it, or another
 *   call is using it right now).
 *
 * Objects (IOASIDs, and with the selftest mock, mock devices) are named
 * by a __u32 ID unique within the fd; 0 is never a valid ID.
 */

#define IOASID_FD_TYPE 0xB9

enum {
	IOASID_CMD_BASE = 0x00,
	IOASID_CMD_INFO = IOASID_CMD_BASE,
	IOASID_CMD_DESTROY = 0x01,
	IOASID_CMD_ALLOC = 0x02,
	IOASID_CMD_IOVA_RANGES = 0x03,
	IOASID_CMD_MAP = 0x04,
	IOASID_CMD_UNMAP = 0x05,
	/* 0x3f is IOASID_TEST, only with CONFIG_IOASID_FD_TEST */
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

/**
 * struct ioasid_destroy - ioctl(IOASID_DESTROY)
 * @size: sizeof(struct ioasid_destroy)
 * @flags: must be 0
 * @id: the object to destroy
 * @__reserved: must be 0
 *
 * Destroy any object of the fd by its ID. Destroying an IOASID unmaps
 * everything in it (one IOTLB flush per I/O page table) and unpins the
 * memory.
 *
 * Errors: ENOENT if @id names no object; EBUSY while a device is attached
 * to it or another call uses it.
 */
struct ioasid_destroy {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

#define IOASID_DESTROY _IO(IOASID_FD_TYPE, IOASID_CMD_DESTROY)

/**
 * struct ioasid_alloc - ioctl(IOASID_ALLOC)
 * @size: sizeof(struct ioasid_alloc)
 * @flags: must be 0
 * @out_ioasid: the ID of the new IOASID
 * @__reserved: must be 0
 *
 * Allocate an I/O address space: an empty set of IOVA to memory
 * mappings that devices attached to it will use for DMA. Without devices
 * its whole 64-bit IOVA space is usable; each attached device narrows it
 * to what its IOMMU can translate and removes the regions the device
 * reserves (see IOASID_IOVA_RANGES).
 *
 * Errors: ENOMEM.
 */
struct ioasid_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioasid;
	__u32 __reserved;
};

#define IOASID_ALLOC _IO(IOASID_FD_TYPE, IOASID_CMD_ALLOC)

/**
 * struct ioasid_iova_range - one usable range of IOVA
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 */
struct ioasid_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct ioasid_iova_ranges - ioctl(IOASID_IOVA_RANGES)
 * @size: sizeof(struct ioasid_iova_ranges)
 * @flags: must be 0
 * @ioasid: the IOASID to query
 * @num_ranges: in: how many &struct ioasid_iova_range fit at @ranges;
 *	out: how many usable ranges there are
 * @ranges: user pointer to an array of &struct ioasid_iova_range
 * @out_iova_alignment: the granule IOVAs and lengths must be aligned
 *	to: the CPU page size (a device whose IOMMU cannot map one cannot
 *	attach)
 *
 * Report the IOVA ranges MAP accepts: the intersection of the apertures
 * of the attached devices' IOMMUs, minus the regions any of them
 * reserves (for example the MSI doorbell window), in ascending order.
 * The answer changes as devices attach and detach.
 *
 * The kernel fills as many ranges as fit at @ranges and always sets
 * @num_ranges to the total. If they did not all fit, the call fails with
 * EMSGSIZE after filling what fits: allocate @num_ranges entries and
 * call again. @num_ranges = 0 just asks for the count.
 *
 * Errors: ENOENT if @ioasid is not an IOASID; EMSGSIZE as above; EFAULT.
 */
struct ioasid_iova_ranges {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 num_ranges;
	__aligned_u64 ranges;
	__aligned_u64 out_iova_alignment;
};

#define IOASID_IOVA_RANGES _IO(IOASID_FD_TYPE, IOASID_CMD_IOVA_RANGES)

/**
 * enum ioasid_map_flags - flags of &struct ioasid_map
 * @IOASID_MAP_FIXED_IOVA: map at &ioasid_map.iova; without it the kernel
 *	chooses the IOVA and returns it there
 * @IOASID_MAP_READ: devices may read the memory
 * @IOASID_MAP_WRITE: devices may write the memory
 */
enum ioasid_map_flags {
	IOASID_MAP_FIXED_IOVA = 1 << 0,
	IOASID_MAP_READ = 1 << 1,
	IOASID_MAP_WRITE = 1 << 2,
};

/**
 * struct ioasid_map - ioctl(IOASID_MAP)
 * @size: sizeof(struct ioasid_map)
 * @flags: a combination of &enum ioasid_map_flags; at least one of
 *	IOASID_MAP_READ and IOASID_MAP_WRITE
 * @ioasid: the IOASID to map into
 * @__reserved: must be 0
 * @user_va: start of the memory to map, in the caller's address space
 * @length: number of bytes to map
 * @iova: in with IOASID_MAP_FIXED_IOVA, out otherwise: the IOVA of the
 *	first byte
 *
 * Pin the memory at @user_va and make it reachable by DMA at @iova in
 * every I/O page table of the IOASID. The pages stay pinned, and charged
 * to the caller's user against RLIMIT_MEMLOCK (unless it has
 * CAP_IPC_LOCK), until they are unmapped. The memory must be ordinary
 * memory: a range that includes a VM_IO or VM_PFNMAP mapping (a device
 * BAR mapped from VFIO, say) is refused, because the kernel could not
 * know when that memory goes away.
 *
 * @user_va and @length must be page-aligned, and so must @iova: the IOVA
 * alignment IOASID_IOVA_RANGES reports is the CPU page size. A
 * kernel-chosen IOVA is aligned like @user_va (up to the size of the
 * mapping, and 1GiB) when that much room is free, so that memory in huge
 * pages is mapped with huge IOMMU pages. Each MAP creates one mapping,
 * which UNMAP removes as a whole.
 *
 * Errors:
 *  - EINVAL: @length is 0, an address is misaligned, or neither
 *    READ nor WRITE is requested;
 *  - EOVERFLOW: @iova + @length or @user_va + @length overflows;
 *  - EEXIST: the range overlaps an existing mapping;
 *  - ERANGE: the range is not within the usable IOVA ranges; without
 *    IOASID_MAP_FIXED_IOVA, no free range is large enough;
 *  - EFAULT: the memory is not mapped in the caller, not writable for a
 *    WRITE mapping, or is VM_IO / VM_PFNMAP;
 *  - ENOMEM: out of memory, or the pin would exceed RLIMIT_MEMLOCK;
 *  - errors of pinning itself: EINTR if a signal interrupted it; EAGAIN
 *    or EBUSY if pages could not be migrated out of memory that must not
 *    be pinned long-term; EOPNOTSUPP for memory that can never be pinned
 *    long-term (such as fsdax);
 *  - errors of the IOMMU driver, mapping into an I/O page table.
 */
struct ioasid_map {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOASID_MAP _IO(IOASID_FD_TYPE, IOASID_CMD_MAP)

/**
 * enum ioasid_unmap_flags - flags of &struct ioasid_unmap
 * @IOASID_UNMAP_ALL: unmap every mapping of the IOASID; &ioasid_unmap.iova
 *	and &ioasid_unmap.length must be 0
 */
enum ioasid_unmap_flags {
	IOASID_UNMAP_ALL = 1 << 0,
};

/**
 * struct ioasid_unmap - ioctl(IOASID_UNMAP)
 * @size: sizeof(struct ioasid_unmap)
 * @flags: a combination of &enum ioasid_unmap_flags
 * @ioasid: the IOASID to unmap from
 * @__reserved: must be 0
 * @iova: start of the range to unmap
 * @length: length of the range to unmap, in bytes
 * @out_length: the number of bytes that were mapped in the range
 *
 * Remove every mapping that lies in the range. The range must cover each
 * mapping it touches entirely: a range that would split a mapping is
 * refused and nothing is unmapped. When the call returns, no device can
 * reach the memory any more (the IOTLBs were flushed, once per I/O page
 * table however many mappings went) and only then was the memory
 * unpinned and uncharged.
 *
 * Errors:
 *  - EINVAL: @length is 0 (without IOASID_UNMAP_ALL), an address is
 *    misaligned, or the range would split a mapping;
 *  - EOVERFLOW: @iova + @length overflows;
 *  - ENOENT: no mapping lies in the range (IOASID_UNMAP_ALL of an empty
 *    IOASID succeeds and reports 0 bytes).
 */
struct ioasid_unmap {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_length;
};

#define IOASID_UNMAP _IO(IOASID_FD_TYPE, IOASID_CMD_UNMAP)

#endif
