/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For the out-of-tree build of the core only ("make modules"), against
 * an installed kernel that lacks patches/: what those patches give the
 * core, or the nearest the installed kernel has.
 */
#ifndef __IOFD_OOT_H
#define __IOFD_OOT_H

#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/module.h>

/*
 * patches/0011 exports iommu_group_replace_domain() to every GPL module;
 * the installed kernel exports it to iommufd's namespace only, and
 * declares it in a private header.
 */
int iommu_group_replace_domain(struct iommu_group *group,
			       struct iommu_domain *new_domain);
MODULE_IMPORT_NS(IOMMUFD_INTERNAL);

/* patches/0010's check: is @domain the IOMMU driver's of @dev? */
static inline int iofd_oot_foreign_domain(struct device *dev, void *domain)
{
	if (!dev->iommu || !dev->iommu->iommu_dev ||
	    dev->iommu->iommu_dev->ops != ((struct iommu_domain *)domain)->owner)
		return -EINVAL;
	return 0;
}

static inline int iofd_oot_replace_domain(struct iommu_group *group,
					  struct iommu_domain *domain)
{
	int rc = iommu_group_for_each_dev(group, domain, iofd_oot_foreign_domain);

	return rc ? rc : iommu_group_replace_domain(group, domain);
}
#define iommu_group_replace_domain iofd_oot_replace_domain

/*
 * What patches/ add to <linux/iommu.h> for fault handlers, which the
 * installed headers lack: without the IOMMU drivers' side of it, faults
 * are reported with the access only.
 */
#ifndef IOMMU_FAULT_REASON_SHIFT
#define IOMMU_FAULT_NO_TRANSLATION	0x2
#define IOMMU_FAULT_PERMISSION		0x4
#define IOMMU_FAULT_REASON_SHIFT	8
#define IOMMU_FAULT_REASON(flags)	(((flags) >> IOMMU_FAULT_REASON_SHIFT) & 0xff)
#endif

/*
 * What patches/ export from the IOMMU core for mapping many ranges with
 * one sync; the installed kernel has only iommu_map(), which syncs each.
 */
#define iommu_map_nosync iommu_map

static inline int iommu_sync_map(struct iommu_domain *domain,
				 unsigned long iova, size_t size)
{
	return 0;
}

/*
 * patches/0014's flush of a queued gather frees the page-table pages a
 * driver gathered with a private helper of the IOMMU core. Without it,
 * a plain gather and iommu_iotlb_sync(): correct on every driver, with
 * a flush each time a range is disjoint from the one before.
 */
static inline bool iofd_oot_queues_gather(struct device *dev)
{
	return false;
}
#define iopt_dev_queues_gather iofd_oot_queues_gather

static inline void iommu_iotlb_sync_queued(struct iommu_domain *domain,
					   struct iommu_iotlb_gather *gather)
{
	iommu_iotlb_sync(domain, gather);
}

#endif
