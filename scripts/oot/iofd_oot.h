/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For the out-of-tree build of the core only ("make modules"): what the
 * core takes from drivers/iommu/iommu-priv.h, which the installed kernel
 * headers do not ship. The function is exported for iommufd.
 */
#ifndef __IOFD_OOT_H
#define __IOFD_OOT_H

#include <linux/device.h>
#include <linux/iommu.h>

int iommu_group_replace_domain(struct iommu_group *group,
			       struct iommu_domain *new_domain);

/* The ops of the IOMMU driver that probed @dev */
static inline const struct iommu_ops *dev_iommu_ops(struct device *dev)
{
	return dev->iommu->iommu_dev->ops;
}

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

#endif
