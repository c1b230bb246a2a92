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
 * - EBUSY: the object is in use (a device is attached to it).
 * - ENOSPC: a call that creates an object found the fd's IDs used up.
 *
 * Objects (IOASIDs, event queues, and with the selftest mock, mock
 * devices) are named by a __u32 ID unique within the fd; 0 is never a
 * valid ID. IDs only grow and are never reused while the fd lives, so a
 * stale ID fails rather than name a newer object: after 2^31 objects an
 * fd creates no more (ENOSPC).
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
	IOASID_CMD_EVENTQ_ALLOC = 0x06,
	IOASID_CMD_DEVICE_INFO = 0x07,
	IOASID_CMD_BATCH = 0x08,
	/* 0x3f is IOASID_TEST, only with CONFIG_IOASID_FD_TEST */
};

/**
 * define IOASID_API_VERSION - the version IOASID_INFO reports
 *
 * Bumped only for an incompatible change; features are added as
 * &enum ioasid_capability bits instead.
 */
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
 * @IOASID_CAP_EVENTS: IOASID_EVENTQ_ALLOC, IOASID_DEVICE_INFO and
 *	IOASID_UNMAP_ASYNC are available
 * @IOASID_CAP_BATCH: IOASID_BATCH is available
 */
enum ioasid_capability {
	IOASID_CAP_TEST = 1 << 0,
	IOASID_CAP_EVENTS = 1 << 1,
	IOASID_CAP_BATCH = 1 << 2,
};

/**
 * struct ioasid_destroy - ioctl(IOASID_DESTROY)
 * @size: sizeof(struct ioasid_destroy)
 * @flags: must be 0
 * @id: the object to destroy
 * @__reserved: must be 0
 *
 * Destroy any object of the fd by its ID. Destroying an IOASID unpins
 * everything mapped in it (no device is attached to it, so no I/O page
 * table has to be flushed) and reports an &IOASID_INVAL_IOASID_DESTROYED
 * invalidation. Destroying an event queue ends it: its fd reads what is
 * left, then end of file.
 *
 * Calls that are using the object are waited for, and from the start of
 * the wait no new call finds it (ENOENT).
 *
 * Errors: ENOENT if @id names no object; EBUSY while a device is attached
 * to it; EINTR if a signal interrupted the wait, and the object stays.
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
 *  - EBUSY: the range overlaps an IOASID_UNMAP_ASYNC that another call
 *    started while this one was completing the pending ones;
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
 * @IOASID_UNMAP_ASYNC: return as soon as the range is out of the IOASID;
 *	the IOTLB flush and the unpin happen later, and an
 *	&IOASID_INVAL_ASYNC_UNMAP invalidation event carrying
 *	&ioasid_unmap.cookie says when they are done
 * @IOASID_UNMAP_COMPLETE_ASYNC: unmap nothing, but complete every
 *	asynchronous unmap of the IOASID still pending (flush, unpin, post
 *	its event) before returning; alone, with &ioasid_unmap.iova,
 *	&ioasid_unmap.length and &ioasid_unmap.cookie 0
 */
enum ioasid_unmap_flags {
	IOASID_UNMAP_ALL = 1 << 0,
	IOASID_UNMAP_ASYNC = 1 << 1,
	IOASID_UNMAP_COMPLETE_ASYNC = 1 << 2,
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
 * @cookie: with IOASID_UNMAP_ASYNC, copied into the invalidation event
 *	that reports the completion; must be 0 otherwise
 *
 * Remove every mapping that lies in the range. The range must cover each
 * mapping it touches entirely: a range that would split a mapping is
 * refused and nothing is unmapped. When the call returns, no device can
 * reach the memory any more (the IOTLBs were flushed, once per I/O page
 * table however many mappings went) and only then was the memory
 * unpinned and uncharged. Event queues then get an
 * &IOASID_INVAL_UNMAP invalidation for the range.
 *
 * With IOASID_UNMAP_ASYNC the call returns once the mappings are out of
 * the IOASID: UNMAP and IOASID_IOVA_RANGES no longer see them, but
 * devices may still reach the memory, which stays pinned and charged.
 * The kernel flushes soon after, one flush per I/O page table for all
 * asynchronous unmaps pending by then, unpins, and reports an
 * &IOASID_INVAL_ASYNC_UNMAP invalidation with @cookie. A MAP at a fixed
 * IOVA in a range still pending first waits for that flush; a
 * kernel-chosen IOVA avoids such ranges. IOASID_UNMAP_ALL with
 * IOASID_UNMAP_ASYNC of an IOASID with no mapping still reports its
 * @cookie, once what earlier calls left pending is flushed. A caller that
 * cannot rely on the events (it has no queue for the IOASID's
 * invalidations, or its queue overflowed and it read an
 * &IOASID_EVENT_LOST record) completes what is pending itself with
 * IOASID_UNMAP_COMPLETE_ASYNC: when that returns, every asynchronous
 * unmap the IOASID had is flushed and unpinned (@out_length is 0; the
 * calls that started them reported their bytes). A synchronous UNMAP whose
 * range overlaps a pending one first completes what is pending (its
 * events come first), so that when it returns nothing in its range is
 * reachable. Closing the fd or destroying the IOASID completes what is
 * pending.
 *
 * The structure is written back before anything is unmapped: a reply
 * that cannot be written fails with EFAULT and changes nothing. Only if
 * the caller's memory changes during the call can the final write-back
 * fail after the unmap; the unmap and its event then stand.
 *
 * Errors:
 *  - EINVAL: @length is 0 (without IOASID_UNMAP_ALL), an address is
 *    misaligned, or the range would split a mapping;
 *  - EOVERFLOW: @iova + @length overflows;
 *  - ENOENT: no mapping lies in the range (IOASID_UNMAP_ALL of an empty
 *    IOASID succeeds and reports 0 bytes, and reports no event);
 *  - EOPNOTSUPP: @cookie is not 0 without IOASID_UNMAP_ASYNC;
 *  - EINVAL: IOASID_UNMAP_COMPLETE_ASYNC with another flag, or with
 *    @iova, @length or @cookie not 0;
 *  - EBUSY: another thread's IOASID_UNMAP_ASYNC took part of the range
 *    while this call completed the asynchronous unmaps in its way;
 *    nothing was unmapped by this call, which may be retried.
 */
struct ioasid_unmap {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_length;
	__aligned_u64 cookie;
};

#define IOASID_UNMAP _IO(IOASID_FD_TYPE, IOASID_CMD_UNMAP)

/**
 * DOC: events
 *
 * An event queue is a file of its own, created by IOASID_EVENTQ_ALLOC,
 * from which userspace reads what happened to the fd's IOASIDs and
 * devices: DMA faults, and invalidations (a range that devices can no
 * longer reach). Each event goes to every queue whose filter matches it.
 *
 * Every record is a &struct ioasid_event of the same size,
 * IOASID_EVENT_SIZE bytes: read() returns whole records only, as many as
 * fit, and fails with EINVAL if not even one fits. Records carry a
 * sequence number of their queue that counts every event the queue
 * accepted, delivered or not. When the queue is full an event is dropped
 * and counted; the reader then gets one &IOASID_EVENT_LOST record, whose
 * @seq is the first dropped sequence number and whose count says how many
 * were dropped, before the records that follow the gap. Reporting an
 * event never blocks or allocates: faults are reported from the IOMMU's
 * interrupt handler.
 *
 * A fault record names the IOASID, and the label, that the device has
 * when the IOMMU's fault interrupt handles the fault, not necessarily
 * those its DMA went through: the IOMMU records a fault and its
 * interrupt reads the record later, and the record does not say which
 * I/O page table the DMA used (VT-d's gives the requester ID, the
 * address and the reason). A fault of DMA issued before the device was
 * attached elsewhere can therefore name the new IOASID, and come after
 * the invalidation that says the device left the old one. One handled
 * after the device left its I/O page table for good (the IOASID
 * destroyed, the device detached or unbound, the fd closed) may name no
 * IOASID or not be reported at all. To know which IOASID a fault belongs
 * to, stop the device's DMA before moving it.
 *
 * read() blocks until at least one record is there, unless the file is
 * O_NONBLOCK or the read is IOCB_NOWAIT (io_uring), in which case it
 * fails with EAGAIN; poll() reports EPOLLIN while a record is ready. The
 * file supports FMODE_NOWAIT, so io_uring's IORING_OP_READ_MULTISHOT with
 * a provided-buffer ring reads it without a worker thread: each
 * completion carries the records that fit in one buffer.
 *
 * The queue outlives the ioasid fd: once the context is gone (the ioasid
 * fd closed, and no VFIO group bound to it any more) or the queue
 * destroyed with IOASID_DESTROY, the records already queued can still be
 * read, then read() returns 0 (end of file) and poll() reports EPOLLHUP.
 * Closing the queue's fd does not destroy its ID: the queue keeps
 * collecting events until IOASID_DESTROY or the end of the context.
 */

/**
 * enum ioasid_event_type - &ioasid_event.type, and bits of the queue mask
 * @IOASID_EVENT_FAULT: a device's DMA faulted; &ioasid_event.fault
 * @IOASID_EVENT_INVAL: a range of an IOASID is no longer reachable by
 *	DMA; &ioasid_event.inval
 * @IOASID_EVENT_LOST: events were dropped because the queue was full;
 *	&ioasid_event.lost. Always delivered, whatever the mask.
 */
enum ioasid_event_type {
	IOASID_EVENT_FAULT = 1,
	IOASID_EVENT_INVAL = 2,
	IOASID_EVENT_LOST = 3,
};

/**
 * IOASID_EVENT_MASK - the bit of &ioasid_eventq_alloc.event_mask that
 *	selects an event type
 * @t: an &enum ioasid_event_type
 */
#define IOASID_EVENT_MASK(t) (1ULL << (t))

/**
 * enum ioasid_fault_access - &ioasid_event.fault.access
 * @IOASID_FAULT_READ: the device read memory
 * @IOASID_FAULT_WRITE: the device wrote memory
 */
enum ioasid_fault_access {
	IOASID_FAULT_READ = 1,
	IOASID_FAULT_WRITE = 2,
};

/**
 * enum ioasid_fault_reason - &ioasid_event.fault.reason
 * @IOASID_FAULT_OTHER: the IOMMU reported another cause than the two
 *	below, or could not tell which of them it was (see
 *	&ioasid_event.fault.vendor_code). Intel VT-d cannot: it reports an
 *	unmapped IOVA and a read-only one alike, as fault reason 5h (write)
 *	or 6h (read), so its faults are all IOASID_FAULT_OTHER.
 * @IOASID_FAULT_NOT_MAPPED: nothing is mapped at the IOVA, as for every
 *	DMA of a device that is bound but not attached (&ioasid_event.ioasid
 *	is 0), where the IOMMU can tell (VT-d cannot: its faults of such a
 *	device are IOASID_FAULT_OTHER, as all of them)
 * @IOASID_FAULT_NOT_PERMITTED: the IOVA is mapped but not for this access
 *	(a write to a mapping without IOASID_MAP_WRITE)
 */
enum ioasid_fault_reason {
	IOASID_FAULT_OTHER = 0,
	IOASID_FAULT_NOT_MAPPED = 1,
	IOASID_FAULT_NOT_PERMITTED = 2,
};

/**
 * enum ioasid_inval_cause - &ioasid_event.inval.cause
 * @IOASID_INVAL_UNMAP: IOASID_UNMAP (also with IOASID_UNMAP_ALL)
 * @IOASID_INVAL_ASYNC_UNMAP: an IOASID_UNMAP_ASYNC completed: the IOTLBs
 *	were flushed and the memory unpinned; &ioasid_event.inval.cookie is
 *	the caller's
 * @IOASID_INVAL_IOASID_DESTROYED: the IOASID was destroyed, by
 *	IOASID_DESTROY or the close of the fd
 * @IOASID_INVAL_DEVICE_DETACHED: the device named by &ioasid_event.label
 *	(with its IOMMU group) no longer reaches the IOASID: it was detached
 *	or attached to another IOASID. In a group of several devices this is
 *	reported when the last of them leaves the IOASID.
 * @IOASID_INVAL_DEVICE_REMOVED: the same, because the device went away
 *	(hot-unplug, or its driver was unbound). Unlike a detach, this is
 *	reported for the device itself even when others of its group stay
 *	attached: it will never reach the IOASID again.
 */
enum ioasid_inval_cause {
	IOASID_INVAL_UNMAP = 1,
	IOASID_INVAL_ASYNC_UNMAP = 2,
	IOASID_INVAL_IOASID_DESTROYED = 3,
	IOASID_INVAL_DEVICE_DETACHED = 4,
	IOASID_INVAL_DEVICE_REMOVED = 5,
};

/**
 * struct ioasid_event - one record read from an event queue
 * @type: an &enum ioasid_event_type
 * @__reserved: 0
 * @ioasid: the IOASID the event is about; 0 for none. For a fault, the
 *	IOASID the device was attached to when the fault was handled (see
 *	DOC: events)
 * @seq: the queue's sequence number of the event; consecutive unless
 *	events were lost
 * @label: the label of the device the event is about (see
 *	VFIO_DEVICE_ATTACH_IOASID); 0 for none. Devices behind a PCIe-to-PCI
 *	bridge share one requester ID, the bridge's alias (its secondary
 *	bus, devfn 0): VT-d reports their faults as those of the device at
 *	that address, if there is one (same group, so the same IOASID; its
 *	label), and otherwise not at all
 * @fault: for IOASID_EVENT_FAULT
 * @fault.iova: the faulting IOVA, as the IOMMU reports it (VT-d reports
 *	the page)
 * @fault.access: an &enum ioasid_fault_access
 * @fault.reason: an &enum ioasid_fault_reason
 * @fault.vendor_code: the IOMMU's own fault reason (for VT-d, the fault
 *	reason of the fault recording register); 0 if it has none
 * @fault.__reserved: 0
 * @inval: for IOASID_EVENT_INVAL
 * @inval.iova: first IOVA of the range
 * @inval.last: last IOVA of the range, inclusive; a whole IOVA space is
 *	[0, 2^64 - 1]
 * @inval.cause: an &enum ioasid_inval_cause
 * @inval.__reserved: 0
 * @inval.cookie: for IOASID_INVAL_ASYNC_UNMAP, &ioasid_unmap.cookie;
 *	otherwise 0
 * @lost: for IOASID_EVENT_LOST
 * @lost.count: how many events were dropped, from @seq on
 * @__payload: the size of the largest payload, now and in the future
 *
 * Records are IOASID_EVENT_SIZE bytes and zero wherever no field is set,
 * so new fields can appear in what is 0 today.
 */
struct ioasid_event {
	__u16 type;
	__u16 __reserved;
	__u32 ioasid;
	__aligned_u64 seq;
	__aligned_u64 label;
	union {
		struct {
			__aligned_u64 iova;
			__u32 access;
			__u32 reason;
			__u32 vendor_code;
			__u32 __reserved;
		} fault;
		struct {
			__aligned_u64 iova;
			__aligned_u64 last;
			__u32 cause;
			__u32 __reserved;
			__aligned_u64 cookie;
		} inval;
		struct {
			__aligned_u64 count;
		} lost;
		__u8 __payload[40];
	};
};

/**
 * define IOASID_EVENT_SIZE - the size of every &struct ioasid_event, in
 *	bytes; read() takes and returns multiples of it
 */
#define IOASID_EVENT_SIZE 64

/**
 * define IOASID_EVENTQ_MAX_DEPTH - the most records an event queue may hold
 */
#define IOASID_EVENTQ_MAX_DEPTH 65536

/**
 * enum ioasid_eventq_flags - flags of &struct ioasid_eventq_alloc
 * @IOASID_EVENTQ_NONBLOCK: open the queue's fd O_NONBLOCK
 */
enum ioasid_eventq_flags {
	IOASID_EVENTQ_NONBLOCK = 1 << 0,
};

/**
 * struct ioasid_eventq_alloc - ioctl(IOASID_EVENTQ_ALLOC)
 * @size: sizeof(struct ioasid_eventq_alloc)
 * @flags: a combination of &enum ioasid_eventq_flags
 * @ioasid: only events about this IOASID; 0 for events about any IOASID
 *	of the fd, and about devices not attached to one
 * @depth: how many records the queue holds, 1 to IOASID_EVENTQ_MAX_DEPTH;
 *	the memory (IOASID_EVENT_SIZE bytes a record) is charged to the
 *	caller's memory cgroup
 * @event_mask: which events to queue: IOASID_EVENT_MASK() of each wanted
 *	&enum ioasid_event_type (FAULT, INVAL); not 0
 * @out_eventq_id: the queue's object ID, for IOASID_DESTROY
 * @out_fd: the queue's new fd, close-on-exec, to read records from
 *
 * Create an event queue (see "events" above). The queue sees events that
 * happen from now on; several queues may exist, and each gets a copy of
 * every event that matches its filter.
 *
 * Errors: EINVAL if @depth is 0 or above IOASID_EVENTQ_MAX_DEPTH, or
 * @event_mask is 0; EOPNOTSUPP if @event_mask has a bit that is not an
 * event type; ENOENT if @ioasid is neither 0 nor an IOASID; EMFILE, ENFILE
 * or ENOMEM.
 */
struct ioasid_eventq_alloc {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 depth;
	__aligned_u64 event_mask;
	__u32 out_eventq_id;
	__s32 out_fd;
};

#define IOASID_EVENTQ_ALLOC _IO(IOASID_FD_TYPE, IOASID_CMD_EVENTQ_ALLOC)

/**
 * enum ioasid_device_info_flags - &ioasid_device_info.out_flags
 * @IOASID_DEVICE_MSI_ISOLATED: the platform isolates the device's MSIs
 *	(interrupt remapping): it cannot raise interrupts it was not given
 * @IOASID_DEVICE_COHERENT: the device's I/O page table enforces cache
 *	coherency (no-snoop DMA is snooped)
 */
enum ioasid_device_info_flags {
	IOASID_DEVICE_MSI_ISOLATED = 1 << 0,
	IOASID_DEVICE_COHERENT = 1 << 1,
};

/**
 * struct ioasid_device_info - ioctl(IOASID_DEVICE_INFO)
 * @size: sizeof(struct ioasid_device_info)
 * @flags: must be 0
 * @label: the label the device was attached with
 * @out_ioasid: the IOASID it is attached to
 * @out_flags: a combination of &enum ioasid_device_info_flags
 * @out_pgsize_bitmap: the page sizes its IOMMU can map (bit n: 2^n bytes)
 * @out_aperture_start: first IOVA its IOMMU can translate
 * @out_aperture_last: last IOVA its IOMMU can translate, inclusive
 * @num_reserved: in: how many &struct ioasid_iova_range fit at @reserved;
 *	out: how many reserved regions the device has
 * @__reserved: must be 0
 * @reserved: user pointer to an array of &struct ioasid_iova_range: the
 *	IOVA ranges the device's IOMMU reserves (MSI window, RMRRs), which
 *	MAP cannot use while the device is attached
 *
 * Report what the kernel knows about one attached device, named by its
 * label: the per-device view behind the IOASID-wide answer of
 * IOASID_IOVA_RANGES. @reserved follows the protocol of
 * IOASID_IOVA_RANGES: the kernel fills what fits, always sets
 * @num_reserved to the total, and fails with EMSGSIZE if they did not
 * all fit.
 *
 * Errors: ENOENT if no attached device has @label; EMSGSIZE as above;
 * EFAULT.
 */
struct ioasid_device_info {
	__u32 size;
	__u32 flags;
	__aligned_u64 label;
	__u32 out_ioasid;
	__u32 out_flags;
	__aligned_u64 out_pgsize_bitmap;
	__aligned_u64 out_aperture_start;
	__aligned_u64 out_aperture_last;
	__u32 num_reserved;
	__u32 __reserved;
	__aligned_u64 reserved;
};

#define IOASID_DEVICE_INFO _IO(IOASID_FD_TYPE, IOASID_CMD_DEVICE_INFO)

/**
 * enum ioasid_batch_op_type - &ioasid_batch_op.op
 * @IOASID_BATCH_MAP: as IOASID_MAP
 * @IOASID_BATCH_UNMAP: as IOASID_UNMAP
 */
enum ioasid_batch_op_type {
	IOASID_BATCH_MAP = 1,
	IOASID_BATCH_UNMAP = 2,
};

/**
 * struct ioasid_batch_op - one operation of IOASID_BATCH
 * @op: an &enum ioasid_batch_op_type
 * @flags: for a MAP, &enum ioasid_map_flags; for an UNMAP,
 *	IOASID_UNMAP_ALL or 0 (IOASID_UNMAP_ASYNC and
 *	IOASID_UNMAP_COMPLETE_ASYNC are refused: the batch flushes and
 *	completes everything pending once at its end anyway)
 * @ioasid: the IOASID
 * @__reserved: must be 0
 * @user_va: for a MAP, as &ioasid_map.user_va; must be 0 for an UNMAP
 * @length: as &ioasid_map.length or &ioasid_unmap.length
 * @iova: as &ioasid_map.iova (in, or out for a kernel-chosen IOVA) or
 *	&ioasid_unmap.iova
 * @out_length: for an UNMAP, the bytes that were mapped in the range
 */
struct ioasid_batch_op {
	__u32 op;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
	__aligned_u64 out_length;
};

/**
 * define IOASID_BATCH_MAX_OPS - the most operations one IOASID_BATCH takes
 */
#define IOASID_BATCH_MAX_OPS (1U << 20)

/**
 * struct ioasid_batch - ioctl(IOASID_BATCH)
 * @size: sizeof(struct ioasid_batch)
 * @flags: must be 0
 * @num_ops: how many operations @ops holds, 1 to IOASID_BATCH_MAX_OPS
 * @op_size: sizeof(struct ioasid_batch_op) as the caller knows it: the
 *	array's elements follow the same extensible-structure rules as the
 *	ioctl's own structures (smaller than the first release: EINVAL; a
 *	non-zero unknown tail: E2BIG)
 * @ops: user pointer to an array of @num_ops operations; each one's
 *	output fields are written back when it is done
 * @out_done: how many operations were done
 * @__reserved: must be 0
 *
 * Do many MAP and UNMAP operations, on one or several IOASIDs, in one
 * call and in order, each with the semantics and errors of IOASID_MAP
 * or IOASID_UNMAP, but with one IOTLB flush per I/O page table for all
 * the unmaps and one mapping sync per I/O page table for all the maps:
 * a VMM's memory-map transaction, or a virtual IOMMU's invalidation
 * storm, costs what one call does. Unmapped memory is unpinned only
 * after the flush. A MAP into a range an earlier UNMAP of the batch
 * freed waits for that flush, so an IOVA is never mapped again before
 * its old translation is gone.
 *
 * When operation k fails, operations 0 to k - 1 are done and stay done
 * (and were flushed and reported to the event queues), operation k and
 * those after it were not started, @out_done is k and the call fails
 * with operation k's errno. @out_done is written back even then; when
 * the call succeeds it is @num_ops. An operation whose output fields
 * cannot be written back is done and counted, and the call fails with
 * EFAULT; except a MAP at a kernel-chosen IOVA, which nobody could find:
 * it is undone, not counted, and the call fails with EFAULT.
 *
 * Errors: EINVAL if @num_ops is 0 or above IOASID_BATCH_MAX_OPS, or
 * @op_size is too small; an operation's error, see above.
 */
struct ioasid_batch {
	__u32 size;
	__u32 flags;
	__u32 num_ops;
	__u32 op_size;
	__aligned_u64 ops;
	__u32 out_done;
	__u32 __reserved;
};

#define IOASID_BATCH _IO(IOASID_FD_TYPE, IOASID_CMD_BATCH)

#endif
