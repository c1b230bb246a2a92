// SPDX-License-Identifier: GPL-2.0-only
/*
 * The IOVA space of an IOASID and the I/O page tables that mirror it.
 *
 * An iofd_iopt is the truth about what is mapped: an interval tree of
 * areas, each one MAP with the pages it pinned. Every iommu_domain that
 * a device of the IOASID is attached to (one per IOMMU the devices sit
 * behind, or fewer if a driver lets devices share) holds exactly the
 * same translations. MAP pins first, without locks, then installs the
 * area in the tree and in every domain; a domain that joins later is
 * filled from the tree before any device uses it.
 *
 * UNMAP is where the cost is. It takes the areas out of the tree, then
 * for each domain removes all of them with iommu_unmap_fast() into one
 * iotlb gather and flushes once: one flush per domain per call, however
 * many mappings and pages went. Where the driver takes deferred flushes
 * (IOMMU_CAP_DEFERRED_FLUSH: VT-d, AMD, SMMUv3, arm-smmu) the gather is
 * "queued", as the DMA API's flush queue makes it: drivers neither flush
 * each time a range is disjoint from the previous one nor record any
 * range (io-pgtable-arm adds nothing to a queued gather, so its sync
 * would flush nothing), and iommu_iotlb_sync_queued() then keeps the
 * promise a queued gather makes: it flushes the domain's whole IOTLB and
 * frees the page-table pages the driver gathered. Any other driver gets
 * a plain gather and flushes what it gathered, as often as it must.
 * Only after all flushes are the pages unpinned, so no device can still
 * reach memory that has been given back. The pages to unpin come from
 * the areas, never from walking a page table.
 *
 * MAP pins, then maps run by run without syncing (iommu_map_nosync()),
 * and syncs each domain once over the new area; a batch of maps syncs
 * once at its end (IOPT_MAP_NOSYNC, iopt_sync_maps()). Under a virtual
 * VT-d in caching mode each sync is a trap to the hypervisor, so this
 * is the difference between one invalidation per physically contiguous
 * run and one per call.
 *
 * A kernel-chosen IOVA is looked for first after the previous one, so
 * that a VMM mapping many ranges does not walk past all of them each
 * time; only when that fails does the search start from the bottom.
 *
 * An asynchronous UNMAP only moves its areas from the tree to a pending
 * tree, where they stay mapped and pinned; iopt_complete_async() later
 * unmaps everything pending with one flush per domain, then unpins. A
 * pending IOVA is still in use: MAP at it waits for the flush (the
 * caller completes it and retries), a kernel-chosen IOVA avoids it, and
 * a new domain is filled with it so that every domain stays the same.
 *
 * Usable IOVA: the intersection of the apertures of the domains, minus
 * the regions attached devices reserve (MSI windows and the like). An
 * IOASID without devices can map any IOVA; a device whose aperture or
 * reserved regions conflict with existing mappings cannot attach.
 *
 * Ranges are [start, last] with last inclusive everywhere, so that a
 * range ending at ULONG_MAX is representable; lengths are checked for
 * overflow before they become a last.
 */
#include <linux/iommu.h>
#include <linux/slab.h>

#include "iofd_private.h"

void iopt_init(struct iofd_iopt *iopt)
{
	init_rwsem(&iopt->domains_rwsem);
	init_rwsem(&iopt->iova_rwsem);
	INIT_LIST_HEAD(&iopt->domains);
	INIT_LIST_HEAD(&iopt->pending_reqs);
	iopt->unsynced_start = ULONG_MAX;
	iopt->areas = RB_ROOT_CACHED;
	iopt->pending = RB_ROOT_CACHED;
	iopt->reserved = RB_ROOT_CACHED;
}

static unsigned long iofd_area_length(struct iofd_area *area)
{
	return area->node.last - area->node.start + 1;
}

static struct iofd_area *iofd_area_first(struct iofd_iopt *iopt,
					 unsigned long start,
					 unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_first(&iopt->areas, start, last);
	return node ? container_of(node, struct iofd_area, node) : NULL;
}

static struct iofd_area *iofd_area_next(struct iofd_area *area,
					unsigned long start, unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&area->node, start, last);
	return node ? container_of(node, struct iofd_area, node) : NULL;
}

#define for_each_area(area, iopt, start, last)                              \
	for (area = iofd_area_first(iopt, start, last); area;               \
	     area = iofd_area_next(area, start, last))

/* An IOVA in [start, last] that is mapped, or pending an async flush */
static struct interval_tree_node *iopt_used_first(struct iofd_iopt *iopt,
						  unsigned long start,
						  unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_first(&iopt->areas, start, last);
	if (node)
		return node;
	return interval_tree_iter_first(&iopt->pending, start, last);
}

/* The aperture every domain of @iopt can translate */
static void iopt_aperture(struct iofd_iopt *iopt, unsigned long *start,
			  unsigned long *last)
{
	struct iofd_domain *idomain;

	lockdep_assert_held(&iopt->domains_rwsem);

	*start = 0;
	*last = ULONG_MAX;
	list_for_each_entry(idomain, &iopt->domains, item) {
		struct iommu_domain_geometry *geo = &idomain->domain->geometry;

		if (!geo->force_aperture)
			continue;
		*start = max_t(unsigned long, *start, geo->aperture_start);
		*last = min_t(unsigned long, *last, geo->aperture_end);
	}
}

/*
 * Call @fn on each usable range in ascending order: the aperture minus
 * the reserved regions. Stops at the first non-zero return and returns it.
 */
static int __iopt_iova_ranges(struct iofd_iopt *iopt,
			      int (*fn)(unsigned long start,
					unsigned long last, void *arg),
			      void *arg)
{
	struct interval_tree_node *resv;
	unsigned long start, last, cur;
	int rc;

	lockdep_assert_held(&iopt->domains_rwsem);
	lockdep_assert_held(&iopt->iova_rwsem);

	iopt_aperture(iopt, &start, &last);
	if (start > last)
		return 0;
	cur = start;
	for (resv = interval_tree_iter_first(&iopt->reserved, start, last);
	     resv; resv = interval_tree_iter_next(resv, start, last)) {
		if (resv->start > cur) {
			rc = fn(cur, resv->start - 1, arg);
			if (rc)
				return rc;
		}
		/* Reserved regions can overlap: never move backwards */
		if (resv->last >= last)
			return 0;
		cur = max(cur, resv->last + 1);
	}
	return fn(cur, last, arg);
}

/**
 * iopt_iova_ranges - report the usable IOVA ranges
 * @iopt: the IOVA space
 * @fn: called with each range, in ascending order
 * @arg: passed to @fn
 *
 * Return: 0, or the first non-zero value @fn returned.
 */
int iopt_iova_ranges(struct iofd_iopt *iopt,
		     int (*fn)(unsigned long start, unsigned long last,
			       void *arg),
		     void *arg)
{
	int rc;

	down_read(&iopt->domains_rwsem);
	down_read(&iopt->iova_rwsem);
	rc = __iopt_iova_ranges(iopt, fn, arg);
	up_read(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	return rc;
}

struct iopt_find {
	struct iofd_iopt *iopt;
	unsigned long length;
	unsigned long align;
	unsigned long from;
	unsigned long found;
};

/* First fit of a free, aligned hole in one usable range, from @from on */
static int iopt_find_in_range(unsigned long start, unsigned long last,
			      void *arg)
{
	struct iopt_find *find = arg;
	struct interval_tree_node *used;
	unsigned long cur, end;

	if (last < find->from)
		return 0;
	start = max(start, find->from);
	if (check_add_overflow(start, find->align - 1, &cur))
		return 0;
	cur &= ~(find->align - 1);
	while (cur <= last) {
		if (check_add_overflow(cur, find->length - 1, &end) ||
		    end > last)
			return 0;
		used = iopt_used_first(find->iopt, cur, end);
		if (!used) {
			find->found = cur;
			return 1;
		}
		/* The next aligned IOVA after it, if there is one */
		if (check_add_overflow(used->last, find->align, &cur))
			return 0;
		cur &= ~(find->align - 1);
	}
	return 0;
}

/* Look from the hint on, then from the bottom */
static bool iopt_find(struct iofd_iopt *iopt, struct iopt_find *find)
{
	find->from = iopt->alloc_hint;
	if (__iopt_iova_ranges(iopt, iopt_find_in_range, find) == 1)
		return true;
	if (!iopt->alloc_hint)
		return false;
	find->from = 0;
	return __iopt_iova_ranges(iopt, iopt_find_in_range, find) == 1;
}

/*
 * Choose an IOVA for @length bytes of memory at @uptr. The IOVA gets the
 * alignment of @uptr, up to the size of the mapping and 1GiB, so that
 * memory backed by huge pages can be mapped with huge IOMMU pages (IOVA
 * and PA must agree in the low bits for that); if no such IOVA is free,
 * any page-aligned one will do. The search starts after the previous
 * IOVA it chose: a VMM that maps many ranges finds room at once instead
 * of walking past all of them.
 */
static int iopt_alloc_iova(struct iofd_iopt *iopt, unsigned long uptr,
			   unsigned long length, unsigned long *iova)
{
	struct iopt_find find = {
		.iopt = iopt,
		.length = length,
		.align = min3(1UL << __ffs(uptr | SZ_1G),
			      roundup_pow_of_two(length), (unsigned long)SZ_1G),
	};

	lockdep_assert_held_write(&iopt->iova_rwsem);

	find.align = max(find.align, PAGE_SIZE);
	if (iopt_find(iopt, &find))
		goto found;
	find.align = PAGE_SIZE;
	if (iopt_find(iopt, &find))
		goto found;
	return -ERANGE;
found:
	*iova = find.found;
	/* Wraps to 0 past the top, which is where the second look starts */
	iopt->alloc_hint = find.found + length;
	return 0;
}

struct iopt_check {
	unsigned long start;
	unsigned long last;
	bool ok;
};

static int iopt_check_in_range(unsigned long start, unsigned long last,
			       void *arg)
{
	struct iopt_check *check = arg;

	if (check->start >= start && check->last <= last) {
		check->ok = true;
		return 1;
	}
	return 0;
}

/* Can [iova, last] be mapped? */
static int iopt_check_iova(struct iofd_iopt *iopt, unsigned long iova,
			   unsigned long last)
{
	struct iopt_check check = { .start = iova, .last = last };

	if (iofd_area_first(iopt, iova, last))
		return -EEXIST;
	/* The caller completes the pending flush and tries again */
	if (interval_tree_iter_first(&iopt->pending, iova, last))
		return -EAGAIN;
	__iopt_iova_ranges(iopt, iopt_check_in_range, &check);
	return check.ok ? 0 : -ERANGE;
}

/*
 * Map @area into @domain, a run of physically contiguous pages at a time,
 * without syncing: the caller syncs once over all it mapped. On failure
 * nothing of the area is left in @domain.
 */
static int iopt_area_map(struct iofd_area *area, struct iommu_domain *domain)
{
	struct iofd_pages *pages = area->pages;
	struct iommu_iotlb_gather gather;
	unsigned long iova = area->node.start;
	unsigned int i;
	int rc;

	for (i = 0; i != pages->nr_runs; i++) {
		size_t len = pages->runs[i].npages << PAGE_SHIFT;

		if (iofd_should_fail())
			rc = -ENOMEM;
		else
			rc = iommu_map_nosync(domain, iova,
					      PFN_PHYS(pages->runs[i].pfn), len,
					      area->prot, GFP_KERNEL_ACCOUNT);
		if (rc)
			goto err_unmap;
		iova += len;
	}
	return 0;

err_unmap:
	/* iommu_map() undid its own part; undo the runs before it */
	if (iova != area->node.start) {
		size_t len = iova - area->node.start, unmapped;

		iommu_iotlb_gather_init(&gather);
		unmapped = iommu_unmap_fast(domain, area->node.start, len,
					    &gather);
		/* A PTE left behind would point at memory we are giving back */
		WARN_ON(unmapped != len);
		iommu_iotlb_sync(domain, &gather);
	}
	return rc;
}

/*
 * Remove every area on @list from @idomain's page table and flush its
 * IOTLB, once where the driver lets us (see the top). When this returns
 * no device reaches any of the areas' pages.
 */
static void iopt_unmap_domain(struct iofd_domain *idomain,
			      struct list_head *list)
{
	struct iommu_domain *domain = idomain->domain;
	struct iommu_iotlb_gather gather;
	struct iofd_area *area;
	size_t unmapped;

	iommu_iotlb_gather_init(&gather);
	gather.queued = idomain->deferred_flush;
	list_for_each_entry(area, list, unmap_item) {
		unmapped = iommu_unmap_fast(domain, area->node.start,
					    iofd_area_length(area), &gather);
		/* A PTE left behind would point at memory about to be unpinned */
		WARN_ON(unmapped != iofd_area_length(area));
		/* Under the sleeping IOVA locks: a million areas take a while */
		cond_resched();
	}
	/*
	 * Not idomain->deferred_flush: a driver may still sync a queued
	 * gather itself (AMD with NpCache does, on a disjoint range), which
	 * reinitializes it, queued no more, with what followed gathered.
	 */
	if (gather.queued)
		iommu_iotlb_sync_queued(domain, &gather);
	else
		iommu_iotlb_sync(domain, &gather);
}

/* Sync @idomain over @area; on failure, take @area back out */
static int iopt_area_sync(struct iofd_area *area, struct iofd_domain *idomain)
{
	LIST_HEAD(one);
	int rc;

	rc = iommu_sync_map(idomain->domain, area->node.start,
			    iofd_area_length(area));
	if (!rc)
		return 0;
	list_add(&area->unmap_item, &one);
	iopt_unmap_domain(idomain, &one);
	list_del(&area->unmap_item);
	return rc;
}

/**
 * iopt_sync_maps - sync what maps with IOPT_MAP_NOSYNC left unsynced
 * @iopt: the IOVA space
 *
 * One sync per domain over the span of all of them.
 */
void iopt_sync_maps(struct iofd_iopt *iopt)
{
	struct iofd_domain *idomain;
	unsigned long start, last;

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	start = iopt->unsynced_start;
	last = iopt->unsynced_last;
	iopt->unsynced_start = ULONG_MAX;
	iopt->unsynced_last = 0;
	if (start <= last)
		list_for_each_entry(idomain, &iopt->domains, item)
			/* Drivers' syncs do not fail: VT-d's, AMD's, SMMU's */
			WARN_ON(iommu_sync_map(idomain->domain, start,
					       last - start + 1));
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
}

/**
 * iopt_map_user - pin user memory and map it in every domain
 * @iopt: the IOVA space
 * @iova: in: where to map with IOPT_MAP_FIXED_IOVA; out: where it was
 *	mapped
 * @uptr: the memory, page-aligned
 * @length: bytes, page-aligned, non-zero; @uptr + @length checked by caller;
 *	*@iova page-aligned with IOPT_MAP_FIXED_IOVA
 * @prot: IOMMU_READ and/or IOMMU_WRITE
 * @flags: IOPT_MAP_FIXED_IOVA to map at *@iova rather than choosing;
 *	IOPT_MAP_NOSYNC to leave the sync to iopt_sync_maps()
 * @acct: who pays for the pins
 * @seq: if not NULL, out: the mapping's identity, for iopt_unmap_seq()
 *
 * Return: 0, -EEXIST if the range overlaps a mapping, -EAGAIN if it
 * overlaps an asynchronous unmap not flushed yet, -ERANGE if it is not
 * usable (or no hole is large enough), -EOVERFLOW, or the pin's or the
 * IOMMU driver's error. On failure nothing is mapped or pinned.
 */
int iopt_map_user(struct iofd_iopt *iopt, unsigned long *iova,
		  unsigned long uptr, unsigned long length, int prot,
		  unsigned int flags, const struct iofd_acct *acct, u64 *seq)
{
	bool fixed_iova = flags & IOPT_MAP_FIXED_IOVA;
	struct iofd_domain *idomain, *failed;
	struct iofd_pages *pages;
	struct iofd_area *area;
	unsigned long last;
	int rc;

	if (fixed_iova && check_add_overflow(*iova, length - 1, &last))
		return -EOVERFLOW;

	/* Refuse what cannot work before paying for the pins... */
	if (fixed_iova) {
		down_read(&iopt->domains_rwsem);
		down_read(&iopt->iova_rwsem);
		rc = iopt_check_iova(iopt, *iova, last);
		up_read(&iopt->iova_rwsem);
		up_read(&iopt->domains_rwsem);
		if (rc)
			return rc;
	}

	/* ...then pin without locks: it faults pages in and may sleep long */
	pages = iofd_pages_pin(uptr, length >> PAGE_SHIFT,
			       prot & IOMMU_WRITE, acct);
	if (IS_ERR(pages))
		return PTR_ERR(pages);

	area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!area) {
		rc = -ENOMEM;
		goto err_unpin;
	}
	area->pages = pages;
	area->prot = prot;

	/* Check again: the IOVA space may have changed while we pinned */
	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (fixed_iova)
		rc = iopt_check_iova(iopt, *iova, last);
	else
		rc = iopt_alloc_iova(iopt, uptr, length, iova);
	if (rc)
		goto err_unlock;
	area->node.start = *iova;
	area->node.last = *iova + length - 1;

	list_for_each_entry(idomain, &iopt->domains, item) {
		rc = iopt_area_map(area, idomain->domain);
		if (rc) {
			failed = idomain;
			goto err_unmap;
		}
	}
	if (flags & IOPT_MAP_NOSYNC) {
		iopt->unsynced_start = min(iopt->unsynced_start,
					   area->node.start);
		iopt->unsynced_last = max(iopt->unsynced_last,
					  area->node.last);
	} else {
		/* One sync per domain for all the runs */
		list_for_each_entry(idomain, &iopt->domains, item) {
			rc = iopt_area_sync(area, idomain);
			if (rc) {
				/* It took the area back out of that one */
				failed = idomain;
				goto err_unmap_others;
			}
		}
	}
	area->seq = iopt->next_seq++;
	if (seq)
		*seq = area->seq;
	interval_tree_insert(&area->node, &iopt->areas);
	iopt->nr_areas++;
	iopt->nr_pinned += pages->npages;
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	return 0;

err_unmap_others:
	/* Every domain but @failed holds the area */
	list_for_each_entry(idomain, &iopt->domains, item) {
		LIST_HEAD(one);

		if (idomain == failed)
			continue;
		list_add(&area->unmap_item, &one);
		iopt_unmap_domain(idomain, &one);
		list_del(&area->unmap_item);
	}
	goto err_unlock;
err_unmap:
	/* The domains before @failed hold the area: a flush per domain */
	list_for_each_entry(idomain, &iopt->domains, item) {
		LIST_HEAD(one);

		if (idomain == failed)
			break;
		list_add(&area->unmap_item, &one);
		iopt_unmap_domain(idomain, &one);
		list_del(&area->unmap_item);
	}
err_unlock:
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	kfree(area);
err_unpin:
	iofd_pages_unpin(pages);
	return rc;
}

/*
 * Take every area within [iova, last] out of the tree, onto @list. A
 * range that would cut an area in two fails and changes nothing. With
 * @seq, the range must be exactly the one area that MAP made, or
 * nothing happens (-ENOENT).
 */
static int iopt_take_areas(struct iofd_iopt *iopt, unsigned long iova,
			   unsigned long last, struct list_head *list,
			   unsigned long *unmapped, const u64 *seq)
{
	struct iofd_area *area;

	lockdep_assert_held_write(&iopt->iova_rwsem);

	*unmapped = 0;
	if (seq) {
		area = iofd_area_first(iopt, iova, last);
		if (!area || area->seq != *seq || area->node.start != iova ||
		    area->node.last != last)
			return -ENOENT;
	}
	for_each_area(area, iopt, iova, last) {
		if (area->node.start < iova || area->node.last > last)
			return -EINVAL;
		list_add_tail(&area->unmap_item, list);
	}
	if (list_empty(list))
		return -ENOENT;
	list_for_each_entry(area, list, unmap_item) {
		interval_tree_remove(&area->node, &iopt->areas);
		iopt->nr_areas--;
		*unmapped += iofd_area_length(area);
	}
	return 0;
}

/* iopt_unmap(), or with @seq iopt_unmap_seq() */
static int __iopt_unmap(struct iofd_iopt *iopt, unsigned long iova,
			unsigned long last, unsigned long *unmapped,
			const u64 *seq)
{
	struct iofd_domain *idomain;
	struct iofd_area *area, *next;
	LIST_HEAD(list);
	int rc;

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	/* Not done while part of the range is pending an async flush */
	if (!seq && interval_tree_iter_first(&iopt->pending, iova, last))
		rc = -EAGAIN;
	else
		rc = iopt_take_areas(iopt, iova, last, &list, unmapped, seq);
	if (rc) {
		up_write(&iopt->iova_rwsem);
		up_read(&iopt->domains_rwsem);
		return rc;
	}
	list_for_each_entry(area, &list, unmap_item)
		iopt->nr_pinned -= area->pages->npages;
	list_for_each_entry(idomain, &iopt->domains, item)
		iopt_unmap_domain(idomain, &list);
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);

	/* Every IOTLB is flushed: the memory can go back */
	list_for_each_entry_safe(area, next, &list, unmap_item) {
		iofd_pages_unpin(area->pages);
		kfree(area);
		cond_resched();
	}
	return 0;
}

/**
 * iopt_unmap - unmap every mapping within [iova, last]
 * @iopt: the IOVA space
 * @iova: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 * @unmapped: out: bytes that were mapped in the range
 *
 * A range that would cut a mapping in two fails and changes nothing.
 *
 * Return: 0, -EINVAL if the range splits a mapping, -ENOENT if nothing
 * is mapped in it, -EAGAIN (nothing done) if an asynchronous unmap of
 * part of it is not flushed yet: the caller completes it and retries.
 */
int iopt_unmap(struct iofd_iopt *iopt, unsigned long iova,
	       unsigned long last, unsigned long *unmapped)
{
	return __iopt_unmap(iopt, iova, last, unmapped, NULL);
}

/**
 * iopt_unmap_seq - undo one MAP, if it is still there
 * @iopt: the IOVA space
 * @iova: first IOVA of the mapping
 * @last: last IOVA of the mapping, inclusive
 * @seq: its identity, from iopt_map_user()
 *
 * For a MAP whose caller cannot be told the IOVA: by the time it gives
 * up, another thread may have unmapped the range and mapped something
 * else there, which must stay. The check and the unmap happen under one
 * hold of the locks.
 *
 * Return: 0, or -ENOENT if that mapping is no longer there.
 */
int iopt_unmap_seq(struct iofd_iopt *iopt, unsigned long iova,
		   unsigned long last, u64 seq)
{
	unsigned long unmapped;

	return __iopt_unmap(iopt, iova, last, &unmapped, &seq);
}

/**
 * iopt_unmap_async - take mappings out of the IOVA space, flush later
 * @iopt: the IOVA space
 * @req: the request, with @req->iova and @req->last set; queued on
 *	success, until iopt_complete_async() hands it back
 * @queue_empty: queue @req even if nothing is mapped in the range, so
 *	that its completion is reported after those pending before it
 * @unmapped: out: bytes that were mapped in the range
 *
 * The areas leave the tree but stay mapped and pinned until
 * iopt_complete_async().
 *
 * Return: as iopt_unmap(), but 0 for an empty range with @queue_empty.
 */
int iopt_unmap_async(struct iofd_iopt *iopt, struct iofd_unmap_req *req,
		     bool queue_empty, unsigned long *unmapped)
{
	struct iofd_area *area;
	int rc;

	INIT_LIST_HEAD(&req->areas);
	down_write(&iopt->iova_rwsem);
	rc = iopt_take_areas(iopt, req->iova, req->last, &req->areas,
			     unmapped, NULL);
	if (rc == -ENOENT && queue_empty) {
		*unmapped = 0;
		rc = 0;
	}
	if (!rc) {
		list_for_each_entry(area, &req->areas, unmap_item)
			interval_tree_insert(&area->node, &iopt->pending);
		list_add_tail(&req->item, &iopt->pending_reqs);
	}
	up_write(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_complete_async - flush and unpin what async unmaps left pending
 * @iopt: the IOVA space
 * @done: the completed requests are moved here, for the caller to
 *	report and free
 *
 * One flush per domain for everything pending, however many calls left
 * it. When this returns, no device reaches any of it and it is unpinned.
 */
void iopt_complete_async(struct iofd_iopt *iopt, struct list_head *done)
{
	struct iofd_domain *idomain;
	struct iofd_area *area, *next;
	struct iofd_unmap_req *req;
	LIST_HEAD(areas);

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	list_for_each_entry(req, &iopt->pending_reqs, item)
		list_splice_tail_init(&req->areas, &areas);
	list_splice_tail_init(&iopt->pending_reqs, done);
	if (!list_empty(&areas)) {
		list_for_each_entry(idomain, &iopt->domains, item)
			iopt_unmap_domain(idomain, &areas);
		list_for_each_entry(area, &areas, unmap_item) {
			interval_tree_remove(&area->node, &iopt->pending);
			iopt->nr_pinned -= area->pages->npages;
		}
	}
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);

	list_for_each_entry_safe(area, next, &areas, unmap_item) {
		iofd_pages_unpin(area->pages);
		kfree(area);
		cond_resched();
	}
}

/**
 * iopt_destroy - release everything an IOVA space holds
 * @iopt: the IOVA space; no domain may be attached any more
 */
void iopt_destroy(struct iofd_iopt *iopt)
{
	unsigned long unmapped;

	WARN_ON(!list_empty(&iopt->domains));
	/* The owner completed the asynchronous unmaps first */
	WARN_ON(!list_empty(&iopt->pending_reqs));
	iopt_unmap(iopt, 0, ULONG_MAX, &unmapped);
	WARN_ON(!RB_EMPTY_ROOT(&iopt->reserved.rb_root));
}

struct iofd_reserved {
	struct interval_tree_node node;
	void *owner;
};

/**
 * iopt_reserve_dev_regions - keep @dev's reserved regions out of reach
 * @iopt: the IOVA space
 * @dev: the device about to use it
 * @owner: tag for iopt_unreserve()
 *
 * A device's IOMMU can reserve IOVA for its own use (the MSI doorbell
 * window on x86, RMRRs): MAP must stay out of it, and the device cannot
 * join if something is mapped there already.
 *
 * Return: 0, -EADDRINUSE if a region is mapped, -ENOMEM.
 */
int iopt_reserve_dev_regions(struct iofd_iopt *iopt, struct device *dev,
			     void *owner)
{
	struct iommu_resv_region *resv;
	struct iofd_reserved *r;
	LIST_HEAD(regions);
	int rc = 0;

	lockdep_assert_held_write(&iopt->domains_rwsem);

	iommu_get_resv_regions(dev, &regions);
	down_write(&iopt->iova_rwsem);
	list_for_each_entry(resv, &regions, list) {
		unsigned long last;

		/* Identity maps a device can live without: MAP may use them */
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		if (!resv->length ||
		    check_add_overflow((unsigned long)resv->start,
				       resv->length - 1, &last)) {
			/* Beyond what an unsigned long IOVA can reach */
			continue;
		}
		if (iopt_used_first(iopt, resv->start, last)) {
			rc = -EADDRINUSE;
			break;
		}
		r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
		if (!r) {
			rc = -ENOMEM;
			break;
		}
		r->owner = owner;
		r->node.start = resv->start;
		r->node.last = last;
		interval_tree_insert(&r->node, &iopt->reserved);
	}
	up_write(&iopt->iova_rwsem);
	iommu_put_resv_regions(dev, &regions);
	if (rc)
		iopt_unreserve(iopt, owner);
	return rc;
}

/**
 * iopt_unreserve - drop the regions iopt_reserve_dev_regions() added
 * @iopt: the IOVA space
 * @owner: the tag they were added with
 */
void iopt_unreserve(struct iofd_iopt *iopt, void *owner)
{
	struct interval_tree_node *node, *next;

	down_write(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(&iopt->reserved, 0, ULONG_MAX);
	     node; node = next) {
		struct iofd_reserved *r =
			container_of(node, struct iofd_reserved, node);

		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		if (r->owner != owner)
			continue;
		interval_tree_remove(&r->node, &iopt->reserved);
		kfree(r);
	}
	up_write(&iopt->iova_rwsem);
}

static int iopt_fill_tree(struct rb_root_cached *tree,
			  struct iommu_domain *domain, struct list_head *done)
{
	struct iommu_domain_geometry *geo = &domain->geometry;
	struct interval_tree_node *node;
	struct iofd_area *area;
	int rc;

	for (node = interval_tree_iter_first(tree, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		area = container_of(node, struct iofd_area, node);
		if (geo->force_aperture &&
		    (area->node.start < geo->aperture_start ||
		     area->node.last > geo->aperture_end))
			return -EADDRINUSE;
		rc = iopt_area_map(area, domain);
		if (rc)
			return rc;
		/* A pending area is on its request's list: keep a copy here */
		list_add_tail(&area->fill_item, done);
	}
	return 0;
}

/**
 * iopt_fill_domain - make a new domain mirror the IOVA space
 * @iopt: the IOVA space
 * @domain: a domain no device uses yet
 *
 * Mappings whose asynchronous unmap is pending are mapped too: until
 * their flush every domain holds them.
 *
 * Return: 0, -EADDRINUSE if something mapped lies outside the domain's
 * aperture, or the IOMMU driver's error; on failure @domain is empty.
 */
int iopt_fill_domain(struct iofd_iopt *iopt, struct iommu_domain *domain)
{
	struct iommu_iotlb_gather gather;
	struct iofd_area *area;
	LIST_HEAD(done);
	int rc;

	lockdep_assert_held_write(&iopt->domains_rwsem);

	down_read(&iopt->iova_rwsem);
	rc = iopt_fill_tree(&iopt->areas, domain, &done);
	if (!rc)
		rc = iopt_fill_tree(&iopt->pending, domain, &done);
	/* One sync over the span of all of it */
	if (!rc && !list_empty(&done)) {
		unsigned long start = ULONG_MAX, last = 0;

		list_for_each_entry(area, &done, fill_item) {
			start = min(start, area->node.start);
			last = max(last, area->node.last);
		}
		rc = iommu_sync_map(domain, start, last - start + 1);
	}
	if (rc && !list_empty(&done)) {
		iommu_iotlb_gather_init(&gather);
		list_for_each_entry(area, &done, fill_item)
			WARN_ON(iommu_unmap_fast(domain, area->node.start,
						 iofd_area_length(area),
						 &gather) !=
				iofd_area_length(area));
		iommu_iotlb_sync(domain, &gather);
	}
	up_read(&iopt->iova_rwsem);
	return rc;
}
