// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinning user memory for DMA, and paying for it.
 *
 * A MAP pins its pages with FOLL_LONGTERM (so they are migrated out of
 * ZONE_MOVABLE/CMA first, and fork() gives the child copies rather than
 * sharing them) in batches of a page of struct page pointers, and keeps
 * what it pinned as runs of physically contiguous PFNs. The runs serve
 * twice: map hands each run to the IOMMU driver whole, and unpin gives
 * each back with one unpin_user_page_range_dirty_lock() call, never
 * walking an I/O page table to find out what was there.
 *
 * Accounting: every pinned page is charged to the pinning task's user in
 * user->locked_vm, before anything is pinned, and uncharged when it is
 * unpinned. The user, not the mm, pays because the fd outlives and moves
 * between processes (a VMM is commonly handed it by a manager): a
 * per-mm charge would be stranded in whichever mm did the MAP. The
 * limit is RLIMIT_MEMLOCK unless the task has CAP_IPC_LOCK; the caller
 * decides and passes it in struct iofd_acct.
 */
#include <linux/mm.h>
#include <linux/sched/user.h>
#include <linux/slab.h>

#include "iofd_private.h"

static int iofd_acct_charge(const struct iofd_acct *acct,
			    unsigned long npages)
{
	unsigned long cur, new;

	cur = atomic_long_read(&acct->user->locked_vm);
	do {
		if (check_add_overflow(cur, npages, &new) || new > acct->limit)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&acct->user->locked_vm, &cur, new));
	return 0;
}

static void iofd_acct_uncharge(struct user_struct *user, unsigned long npages)
{
	long left = atomic_long_sub_return(npages, &user->locked_vm);

	IOFD_TEST_WARN_ON(left < 0);
}

/* Append a batch of pinned pages; on failure nothing was appended */
static int iofd_pages_add(struct iofd_pages *pages, struct page **batch,
			  unsigned long n)
{
	unsigned long i;

	/* Room for the worst case, n new runs, before touching anything */
	if (pages->max_runs - pages->nr_runs < n) {
		unsigned int max = max_t(unsigned long, pages->max_runs * 2,
					 pages->nr_runs + n);
		struct iofd_pfn_run *runs;

		runs = kvrealloc(pages->runs, array_size(max, sizeof(*runs)),
				 GFP_KERNEL_ACCOUNT);
		if (!runs)
			return -ENOMEM;
		pages->runs = runs;
		pages->max_runs = max;
	}

	for (i = 0; i != n; i++) {
		unsigned long pfn = page_to_pfn(batch[i]);
		struct iofd_pfn_run *run;

		if (pages->nr_runs) {
			run = &pages->runs[pages->nr_runs - 1];
			if (run->pfn + run->npages == pfn) {
				run->npages++;
				continue;
			}
		}
		pages->runs[pages->nr_runs++] = (struct iofd_pfn_run){
			.pfn = pfn,
			.npages = 1,
		};
	}
	pages->npages += n;
	return 0;
}

static void iofd_pages_unpin_runs(struct iofd_pages *pages)
{
	unsigned int i;

	for (i = 0; i != pages->nr_runs; i++)
		unpin_user_page_range_dirty_lock(pfn_to_page(pages->runs[i].pfn),
						 pages->runs[i].npages,
						 pages->writable);
}

/**
 * iofd_pages_pin - pin user memory for DMA and charge it
 * @uptr: page-aligned start in current->mm
 * @npages: how many pages
 * @writable: the device may write, so pin for write
 * @acct: who pays, and the limit
 *
 * Return: the pinned pages, or ERR_PTR(-ENOMEM) if @acct's limit would be
 * exceeded or memory ran out, ERR_PTR(-EFAULT) if part of the range is
 * not mapped, not writable for @writable, or is VM_IO/VM_PFNMAP (which
 * GUP refuses: MMIO has no struct page whose lifetime a pin could hold).
 */
struct iofd_pages *iofd_pages_pin(unsigned long uptr, unsigned long npages,
				  bool writable, const struct iofd_acct *acct)
{
	unsigned int gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	const unsigned long batch_max = PAGE_SIZE / sizeof(struct page *);
	struct iofd_pages *pages;
	struct page **batch;
	int rc;

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	pages->writable = writable;
	pages->max_runs = min(npages, 16UL);
	pages->runs = kvcalloc(pages->max_runs, sizeof(*pages->runs),
			       GFP_KERNEL_ACCOUNT);
	if (!pages->runs) {
		rc = -ENOMEM;
		goto err_free;
	}
	batch = (struct page **)__get_free_page(GFP_KERNEL);
	if (!batch) {
		rc = -ENOMEM;
		goto err_free_runs;
	}

	rc = iofd_acct_charge(acct, npages);
	if (rc)
		goto err_free_batch;
	pages->user = get_uid(acct->user);

	while (pages->npages != npages) {
		unsigned long n = min(npages - pages->npages, batch_max);
		long pinned;

		if (iofd_should_fail()) {
			rc = -EFAULT;
			goto err_unpin;
		}
		pinned = pin_user_pages_fast(uptr + pages->npages * PAGE_SIZE,
					     n, gup_flags, batch);
		if (pinned <= 0) {
			rc = pinned ? pinned : -EFAULT;
			goto err_unpin;
		}
		rc = iofd_pages_add(pages, batch, pinned);
		if (rc) {
			unpin_user_pages(batch, pinned);
			goto err_unpin;
		}
	}
	free_page((unsigned long)batch);
	return pages;

err_unpin:
	iofd_pages_unpin_runs(pages);
	iofd_acct_uncharge(pages->user, npages);
	free_uid(pages->user);
err_free_batch:
	free_page((unsigned long)batch);
err_free_runs:
	kvfree(pages->runs);
err_free:
	kfree(pages);
	return ERR_PTR(rc);
}

/**
 * iofd_pages_unpin - unpin and uncharge what iofd_pages_pin() pinned
 * @pages: the pages; freed
 *
 * The caller must have removed the pages from every I/O page table and
 * flushed the IOTLBs first: after this the memory may be reused.
 */
void iofd_pages_unpin(struct iofd_pages *pages)
{
	iofd_pages_unpin_runs(pages);
	iofd_acct_uncharge(pages->user, pages->npages);
	free_uid(pages->user);
	kvfree(pages->runs);
	kfree(pages);
}
