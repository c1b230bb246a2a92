/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For the out-of-tree build of the core only ("make modules"): what the
 * core takes from drivers/iommu/iommu-priv.h, which the installed kernel
 * headers do not ship. The symbol is exported for iommufd.
 */
#ifndef __IOFD_OOT_H
#define __IOFD_OOT_H

struct iommu_domain;
struct iommu_group;

int iommu_group_replace_domain(struct iommu_group *group,
			       struct iommu_domain *new_domain);

#endif
