/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The selftest-only ioctl of /dev/ioasid, present with
 * CONFIG_IOASID_FD_TEST. Not a stable uAPI: it changes with the tests in
 * tools/testing/selftests/ioasid_fd, which include this file directly.
 */
#ifndef _IOFD_TEST_H
#define _IOFD_TEST_H

#include <linux/types.h>
#include <linux/ioasid_fd.h>

/**
 * enum ioasid_test_op - what &struct ioasid_test_cmd does
 * @IOASID_TEST_OP_MOCK_DEVICE: create a mock device behind mock IOMMU
 *	&ioasid_test_cmd.mock_device.iommu and bind it to the fd; returns its
 *	ID, which IOASID_DESTROY takes
 * @IOASID_TEST_OP_ATTACH: attach mock device &ioasid_test_cmd.id to an
 *	IOASID with a label, through the in-kernel API drivers use
 * @IOASID_TEST_OP_DETACH: detach mock device &ioasid_test_cmd.id
 * @IOASID_TEST_OP_CHECK_MAP: check that every I/O page table of IOASID
 *	&ioasid_test_cmd.id translates the range to the caller's pages
 * @IOASID_TEST_OP_PINNED: count the pages of a user range that are pinned
 *	for DMA
 * @IOASID_TEST_OP_DMA: have mock device &ioasid_test_cmd.id read or write
 *	memory through its IOTLB and I/O page table, as a device would:
 *	ENXIO (blocked or not mapped) and EPERM (not allowed) are DMA
 *	faults; ESTALE means a stale IOTLB entry still reached a page that
 *	was unpinned, a use-after-free by DMA that the mock refused
 * @IOASID_TEST_OP_DOMAIN_STATS: read, and optionally reset, the call
 *	counters of the mock I/O page table device &ioasid_test_cmd.id is
 *	attached to
 * @IOASID_TEST_OP_IOASID_STATS: read what IOASID &ioasid_test_cmd.id holds
 * @IOASID_TEST_OP_MEMLOCK: read the caller's user's locked_vm and
 *	optionally replace RLIMIT_MEMLOCK, and the CAP_IPC_LOCK exemption,
 *	for pins made through this fd
 * @IOASID_TEST_OP_INJECT_FAULTS: have mock device &ioasid_test_cmd.id
 *	report DMA faults through the I/O page table it uses now, as the
 *	IOMMU's fault interrupt would: with interrupts off, through
 *	report_iommu_fault()
 * @IOASID_TEST_OP_ASYNC_HOLD: hold back, or let go, the completion of
 *	the fd's IOASID_UNMAP_ASYNC calls, so that a test can see the state
 *	between the call and the flush, and several calls share one flush
 * @IOASID_TEST_OP_BUSY: look object &ioasid_test_cmd.id up and keep using
 *	it, as a long call would, until a signal comes (EINTR) or a minute
 *	passes (ETIMEDOUT)
 * @IOASID_TEST_OP_SKIP_IDS: let the fd's next object ID be at least
 *	&ioasid_test_cmd.skip_ids.next (never lower), so that a test reaches
 *	the end of the ID space without creating 2^31 objects
 */
enum ioasid_test_op {
	IOASID_TEST_OP_MOCK_DEVICE = 1,
	IOASID_TEST_OP_ATTACH,
	IOASID_TEST_OP_DETACH,
	IOASID_TEST_OP_CHECK_MAP,
	IOASID_TEST_OP_PINNED,
	IOASID_TEST_OP_DMA,
	IOASID_TEST_OP_DOMAIN_STATS,
	IOASID_TEST_OP_IOASID_STATS,
	IOASID_TEST_OP_MEMLOCK,
	IOASID_TEST_OP_INJECT_FAULTS,
	IOASID_TEST_OP_ASYNC_HOLD,
	IOASID_TEST_OP_BUSY,
	IOASID_TEST_OP_SKIP_IDS,
};

/* The mock IOMMUs: their apertures differ, so do their reserved windows */
enum {
	IOASID_MOCK_IOMMU_A = 0,
	IOASID_MOCK_IOMMU_B = 1,
	IOASID_MOCK_NUM_IOMMUS = 2,
};

/*
 * Mock IOMMU A: 48-bit aperture, 4K/2M/1G pages, reserved window; takes
 * deferred flushes (a queued gather, then a flush of everything)
 */
#define IOASID_MOCK_A_LAST		((1ULL << 48) - 1)
#define IOASID_MOCK_A_RESV_START	0xfee00000ULL
#define IOASID_MOCK_A_RESV_LAST		0xfeefffffULL
/*
 * Mock IOMMU B: 40-bit aperture, 4K pages only, another reserved window;
 * flushes only what it gathered
 */
#define IOASID_MOCK_B_LAST		((1ULL << 40) - 1)
#define IOASID_MOCK_B_RESV_START	0x8000000000ULL
#define IOASID_MOCK_B_RESV_LAST		0x80001fffffULL

/* Flags of the ops that take some */
enum {
	/* &ioasid_test_cmd.dma.flags: the device writes to memory */
	IOASID_TEST_DMA_WRITE = 1 << 0,
	/* &ioasid_test_cmd.domain_stats.flags: zero after reading */
	IOASID_TEST_STATS_RESET = 1 << 0,
	/* &ioasid_test_cmd.memlock.flags: set the limit */
	IOASID_TEST_MEMLOCK_SET = 1 << 0,
	/* &ioasid_test_cmd.inject.flags: the faulting accesses are writes */
	IOASID_TEST_INJECT_WRITE = 1 << 0,
	/*
	 * &ioasid_test_cmd.inject.flags: read the handler and token of the
	 * device's domain for one fault, and report it only at LET_GO, as a
	 * fault thread preempted in between would (one held at a time)
	 */
	IOASID_TEST_INJECT_HOLD = 1 << 1,
	/*
	 * &ioasid_test_cmd.inject.flags, alone: report the held fault now,
	 * from process context with no lock and no RCU, whatever happened
	 * to its domain, device or fd since; ENOENT if none is held
	 */
	IOASID_TEST_INJECT_LET_GO = 1 << 2,
	/* &ioasid_test_cmd.async_hold.flags: hold (else: let go and flush) */
	IOASID_TEST_ASYNC_HOLD = 1 << 0,
};

/* The largest &ioasid_test_cmd.inject.count */
#define IOASID_TEST_MAX_INJECT 1000000

/**
 * struct ioasid_test_cmd - ioctl(IOASID_TEST)
 * @size: sizeof(struct ioasid_test_cmd)
 * @op: an &enum ioasid_test_op
 * @id: the object the op works on, if any
 * @__reserved: must be 0
 * @mock_device: for IOASID_TEST_OP_MOCK_DEVICE
 * @mock_device.iommu: which mock IOMMU the device sits behind
 * @mock_device.out_device_id: ID of the new mock device
 * @attach: for IOASID_TEST_OP_ATTACH
 * @attach.ioasid: the IOASID to attach to
 * @attach.__reserved: must be 0
 * @attach.label: the device label events will carry
 * @check_map: for IOASID_TEST_OP_CHECK_MAP
 * @check_map.iova: first IOVA to check
 * @check_map.length: bytes to check
 * @check_map.uptr: the memory that must be mapped there
 * @pinned: for IOASID_TEST_OP_PINNED
 * @pinned.uptr: start of the user range
 * @pinned.length: bytes in the range
 * @pinned.out_pinned: how many of its pages are pinned for DMA
 * @dma: for IOASID_TEST_OP_DMA
 * @dma.iova: the IOVA the device accesses
 * @dma.length: bytes to transfer
 * @dma.uptr: user buffer that receives (read) or provides (write) data
 * @dma.flags: IOASID_TEST_DMA_WRITE for a device write to memory
 * @dma.__reserved: must be 0
 * @domain_stats: for IOASID_TEST_OP_DOMAIN_STATS
 * @domain_stats.flags: IOASID_TEST_STATS_RESET to zero after reading
 * @domain_stats.__reserved: must be 0
 * @domain_stats.out_maps: map_pages calls
 * @domain_stats.out_unmaps: unmap_pages calls
 * @domain_stats.out_flushes: IOTLB flushes (iotlb_sync and flush_iotlb_all)
 * @domain_stats.out_late_unpins: pages found unpinned when the IOTLB flush
 *	that covers them came, which must never happen
 * @domain_stats.out_huge_maps: map_pages calls with a page larger than 4KiB
 * @domain_stats.out_map_syncs: iotlb_sync_map calls (an invalidation each
 *	under a caching-mode VT-d)
 * @ioasid_stats: for IOASID_TEST_OP_IOASID_STATS
 * @ioasid_stats.out_domains: I/O page tables the IOASID keeps in sync
 * @ioasid_stats.out_mappings: mappings it holds
 * @ioasid_stats.out_pinned: pages it has pinned
 * @memlock: for IOASID_TEST_OP_MEMLOCK
 * @memlock.flags: IOASID_TEST_MEMLOCK_SET to set the limit to @memlock.pages
 * @memlock.__reserved: must be 0
 * @memlock.pages: the limit in pages; 0 restores RLIMIT_MEMLOCK. Above the
 *	caller's RLIMIT_MEMLOCK only with CAP_IPC_LOCK, else EPERM
 * @memlock.out_locked: pages the caller's user has locked (locked_vm)
 * @inject: for IOASID_TEST_OP_INJECT_FAULTS
 * @inject.iova: the IOVA of the first fault; each next one is a page on
 * @inject.count: how many faults, up to IOASID_TEST_MAX_INJECT
 * @inject.flags: IOASID_TEST_INJECT_WRITE for write faults
 * @inject.__reserved: must be 0
 * @async_hold: for IOASID_TEST_OP_ASYNC_HOLD
 * @async_hold.flags: IOASID_TEST_ASYNC_HOLD to hold; 0 to let go, which
 *	completes everything held before returning
 * @async_hold.__reserved: must be 0
 * @skip_ids: for IOASID_TEST_OP_SKIP_IDS
 * @skip_ids.next: the lowest ID the fd may hand out next, up to 2^31
 * @skip_ids.__reserved: must be 0
 * @last: marks the end of the first release, for the size checks
 */
struct ioasid_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {
		struct {
			__u32 iommu;
			__u32 out_device_id;
		} mock_device;
		struct {
			__u32 ioasid;
			__u32 __reserved;
			__aligned_u64 label;
		} attach;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 uptr;
			__aligned_u64 length;
			__aligned_u64 out_pinned;
		} pinned;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
			__u32 __reserved;
		} dma;
		struct {
			__u32 flags;
			__u32 __reserved;
			__aligned_u64 out_maps;
			__aligned_u64 out_unmaps;
			__aligned_u64 out_flushes;
			__aligned_u64 out_late_unpins;
			__aligned_u64 out_huge_maps;
			__aligned_u64 out_map_syncs;
		} domain_stats;
		struct {
			__aligned_u64 out_domains;
			__aligned_u64 out_mappings;
			__aligned_u64 out_pinned;
		} ioasid_stats;
		struct {
			__u32 flags;
			__u32 __reserved;
			__aligned_u64 pages;
			__aligned_u64 out_locked;
		} memlock;
		struct {
			__aligned_u64 iova;
			__u32 count;
			__u32 flags;
			__u32 __reserved;
		} inject;
		struct {
			__u32 flags;
			__u32 __reserved;
		} async_hold;
		struct {
			__u32 next;
			__u32 __reserved;
		} skip_ids;
	};
	__u32 last;
};

#define IOASID_CMD_TEST 0x3f
#define IOASID_TEST _IO(IOASID_FD_TYPE, IOASID_CMD_TEST)

#endif
