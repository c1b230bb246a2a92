/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __IOFD_IO_PAGETABLE_H
#define __IOFD_IO_PAGETABLE_H

#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/types.h>

struct device;
struct iommu_domain;
struct user_struct;

/*
 * struct iofd_acct - who pays for pinned pages, and how much it may pin
 * @user: charged in user->locked_vm, the counter RLIMIT_MEMLOCK limits
 *	for io_uring and RDMA too
 * @limit: the most @user may have locked, in pages; ULONG_MAX for none
 */
struct iofd_acct {
	struct user_struct *user;
	unsigned long limit;
};

/* A run of physically contiguous pinned pages */
struct iofd_pfn_run {
	unsigned long pfn;
	unsigned long npages;
};

/*
 * struct iofd_pages - the pages one MAP pinned, as physically contiguous
 * runs, so that unmap needs no walk of any I/O page table to find what
 * to unpin and map can hand each run to the IOMMU driver whole (which
 * then uses the largest page size that fits).
 */
struct iofd_pages {
	struct user_struct *user;
	struct mm_struct *mm;
	unsigned long npages;
	bool writable;
	unsigned long nr_runs;
	unsigned long max_runs;
	struct iofd_pfn_run *runs;
};

struct iofd_pages *iofd_pages_pin(unsigned long uptr, unsigned long npages,
				  bool writable, const struct iofd_acct *acct);
void iofd_pages_unpin(struct iofd_pages *pages);

/*
 * struct iofd_area - one mapping: [node.start, node.last] -> @pages
 * @node: its IOVA range; last is inclusive
 * @pages: the memory, pinned
 * @prot: IOMMU_READ and/or IOMMU_WRITE
 * @unmap_item: on the list of an unmap in progress, once out of the tree
 *	(for an asynchronous unmap, until its flush)
 * @fill_item: on the list of a domain being filled, to undo on failure
 * @seq: which MAP made it, unique in the IOVA space
 */
struct iofd_area {
	struct interval_tree_node node;
	struct iofd_pages *pages;
	u64 seq;
	int prot;
	struct list_head unmap_item;
	struct list_head fill_item;
};

/*
 * struct iofd_unmap_req - one IOASID_UNMAP_ASYNC call, until its flush
 * @item: on iofd_iopt.pending_reqs
 * @areas: the areas it took out, until the flush takes them all
 * @iova: first IOVA of the range the call named
 * @last: last IOVA of that range, inclusive
 * @cookie: the caller's, for the completion event
 * @cause: what the completion event says (an &enum ioasid_inval_cause):
 *	IOASID_UNMAP_ASYNC's, or a batch's UNMAP
 */
struct iofd_unmap_req {
	struct list_head item;
	struct list_head areas;
	unsigned long iova;
	unsigned long last;
	u64 cookie;
	u32 cause;
};

/*
 * struct iofd_domain - an I/O page table that mirrors an IOVA space
 * @item: in iofd_iopt.domains
 * @domain: the IOMMU driver's page table
 * @users: groups attached to it
 * @coherent: it enforces cache coherency (no-snoop DMA is snooped)
 * @deferred_flush: its driver honours a queued iotlb gather and flushes
 *	the whole IOTLB on request (IOMMU_CAP_DEFERRED_FLUSH)
 */
struct iofd_domain {
	struct list_head item;
	struct iommu_domain *domain;
	unsigned int users;
	bool coherent;
	bool deferred_flush;
};

/*
 * struct iofd_iopt - an IOVA space and the I/O page tables that mirror it
 *
 * Lock order: @domains_rwsem -> @iova_rwsem. @domains_rwsem is held for
 * write to change @domains (and the users of one), and for read by every
 * walk of @domains. @iova_rwsem is held for write to change @areas or
 * @reserved, and for read to walk them. MAP and UNMAP hold both (read,
 * write) so that every domain always mirrors @areas exactly; attach
 * holds @domains_rwsem for write while it fills a new domain.
 *
 * @pending holds the areas of asynchronous unmaps (@pending_reqs) that
 * are out of @areas but still mapped in every domain and pinned, until
 * iopt_complete_async() flushes them: every domain mirrors @areas and
 * @pending, and neither MAP nor a new device may use their IOVAs.
 */
struct iofd_iopt {
	struct rw_semaphore domains_rwsem;
	struct rw_semaphore iova_rwsem;
	struct list_head domains;
	struct rb_root_cached areas;
	struct rb_root_cached pending;
	struct list_head pending_reqs;
	struct rb_root_cached reserved;
	unsigned long nr_areas;
	unsigned long nr_pinned;
	/* Mapped with IOPT_MAP_NOSYNC, not synced yet: [start, last] */
	unsigned long unsynced_start;
	unsigned long unsynced_last;
	/* Where the next kernel-chosen IOVA is looked for first */
	unsigned long alloc_hint;
	/* The seq of the next area */
	u64 next_seq;
};

/*
 * May UNMAP queue its iotlb gather for the domains of @dev, and flush
 * them whole? Only where the driver honours a queued gather.
 */
static inline bool iopt_dev_queues_gather(struct device *dev)
{
	return device_iommu_capable(dev, IOMMU_CAP_DEFERRED_FLUSH);
}

void iopt_init(struct iofd_iopt *iopt);
void iopt_destroy(struct iofd_iopt *iopt);

int iopt_iova_ranges(struct iofd_iopt *iopt,
		     int (*fn)(unsigned long start, unsigned long last,
			       void *arg),
		     void *arg);
/* iopt_map_user() flags */
#define IOPT_MAP_FIXED_IOVA	BIT(0)
/* Leave the sync to iopt_sync_maps(): for a batch of maps */
#define IOPT_MAP_NOSYNC		BIT(1)

int iopt_map_user(struct iofd_iopt *iopt, unsigned long *iova,
		  unsigned long uptr, unsigned long length, int prot,
		  unsigned int flags, const struct iofd_acct *acct, u64 *seq);
int iopt_unmap_seq(struct iofd_iopt *iopt, unsigned long iova,
		   unsigned long last, u64 seq);
void iopt_sync_maps(struct iofd_iopt *iopt);
int iopt_unmap(struct iofd_iopt *iopt, unsigned long iova,
	       unsigned long last, unsigned long *unmapped);
int iopt_unmap_async(struct iofd_iopt *iopt, struct iofd_unmap_req *req,
		     bool queue_empty, unsigned long *unmapped);
void iopt_complete_async(struct iofd_iopt *iopt, struct list_head *done);

/* For attach: the caller holds domains_rwsem for write */
int iopt_reserve_dev_regions(struct iofd_iopt *iopt, struct device *dev,
			     void *owner);
void iopt_unreserve(struct iofd_iopt *iopt, void *owner);
int iopt_fill_domain(struct iofd_iopt *iopt, struct iommu_domain *domain);

#endif
