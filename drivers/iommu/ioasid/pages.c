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
 * user->locked_vm, a batch at a time just before the batch is pinned
 * (so a MAP that stalls holds no charge for what it has not pinned), and
 * uncharged when it is unpinned. The user, not the mm, pays because the
 * fd outlives and moves between processes (a VMM is commonly handed it
 * by a manager): a per-mm charge would be stranded in whichever mm did
 * the MAP. The limit is RLIMIT_MEMLOCK unless the task has
 * CAP_IPC_LOCK; the caller decides and passes it in struct iofd_acct.
 * The pins are also counted in the pinning mm's pinned_vm, which limits
 * nothing but shows them as VmPin in /proc/PID/status, as RDMA's do.
 *
 * A MAP of many GiB pins for a long time: the loop gives the CPU up
 * between batches and stops with -EINTR when the task is killed.
 *
 * Cost: a run is 16 bytes, so memory as fragmented as it gets (no two
 * neighbours physically adjacent) costs 16 bytes per 4KiB page, 0.4%,
 * for the life of the mapping; memory in huge pages costs 16 bytes per
 * huge page or less. What remains per 4KiB page is GUP's own work (it
 * hands out one struct page per 4KiB page even of a huge folio) and the
 * compare that merges it into the current run.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
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
		unsigned long max, need;
		struct iofd_pfn_run *runs;

		if (check_add_overflow(pages->nr_runs, n, &need) ||
		    check_mul_overflow(pages->max_runs, 2UL, &max))
			return -ENOMEM;
		max = max(max, need);
		/* array_size() saturates: kvrealloc() then fails */
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
	unsigned long i;

	for (i = 0; i != pages->nr_runs; i++) {
		unpin_user_page_range_dirty_lock(pfn_to_page(pages->runs[i].pfn),
						 pages->runs[i].npages,
						 pages->writable);
		if (!(i % 256))
			cond_resched();
	}
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

	pages->user = get_uid(acct->user);
	pages->mm = current->mm;
	mmgrab(pages->mm);

	while (pages->npages != npages) {
		unsigned long n = min(npages - pages->npages, batch_max);
		long pinned;

		if (fatal_signal_pending(current)) {
			rc = -EINTR;
			goto err_unpin;
		}
		/* Charged a batch at a time, just before it is pinned */
		rc = iofd_acct_charge(acct, n);
		if (rc)
			goto err_unpin;
		if (iofd_should_fail())
			pinned = -EFAULT;
		else
			pinned = pin_user_pages_fast(uptr +
						     pages->npages * PAGE_SIZE,
						     n, gup_flags, batch);
		if (pinned <= 0) {
			iofd_acct_uncharge(pages->user, n);
			rc = pinned ? pinned : -EFAULT;
			goto err_unpin;
		}
		/* Short: what was not pinned is not paid for */
		iofd_acct_uncharge(pages->user, n - pinned);
		rc = iofd_pages_add(pages, batch, pinned);
		if (rc) {
			unpin_user_pages(batch, pinned);
			iofd_acct_uncharge(pages->user, pinned);
			goto err_unpin;
		}
		atomic64_add(pinned, &pages->mm->pinned_vm);
		cond_resched();
	}
	free_page((unsigned long)batch);
	return pages;

err_unpin:
	iofd_pages_unpin_runs(pages);
	iofd_acct_uncharge(pages->user, pages->npages);
	atomic64_sub(pages->npages, &pages->mm->pinned_vm);
	mmdrop(pages->mm);
	free_uid(pages->user);
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
	atomic64_sub(pages->npages, &pages->mm->pinned_vm);
	mmdrop(pages->mm);
	free_uid(pages->user);
	kvfree(pages->runs);
	kfree(pages);
}
