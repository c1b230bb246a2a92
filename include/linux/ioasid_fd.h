/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /dev/ioasid for drivers: the in-kernel API a driver that hands devices
 * to userspace (VFIO) uses to put their DMA under an ioasid fd.
 *
 * A driver gets the context from the fd userspace gives it, binds each
 * device (which claims the device's DMA ownership for that context: no
 * kernel driver may use the device's IOMMU group any more), and attaches
 * and detaches it to IOASIDs as userspace asks. Unbinding detaches and
 * gives DMA ownership back. A bound device keeps the context alive.
 *
 * A driver that hands out a group's devices only together may claim the
 * whole group first (iofd_group_claim()), so that the group is either
 * entirely the user's or entirely the kernel's before any device is
 * opened.
 */
#ifndef __LINUX_IOASID_FD_H
#define __LINUX_IOASID_FD_H

#include <linux/types.h>
#include <uapi/linux/ioasid_fd.h>

struct device;
struct file;
struct iommu_group;
struct iofd_ctx;
struct iofd_device;

/**
 * struct iofd_attach_conflict - who blocks an attach
 * @label: the label of the device of the same IOMMU group that is
 *	attached to another IOASID
 * @dev_name: its dev_name(), NUL-terminated, possibly truncated
 *
 * The devices of one IOMMU group cannot be isolated from each other, so
 * they must all use the same IOASID. iofd_device_attach() fills this
 * when it fails with -EBUSY for that reason.
 */
struct iofd_attach_conflict {
	u64 label;
	char dev_name[32];
};

#if IS_ENABLED(CONFIG_IOASID_FD)
struct iofd_ctx *iofd_ctx_from_file(struct file *file);
void iofd_ctx_put(struct iofd_ctx *ictx);
int iofd_group_claim(struct iofd_ctx *ictx, struct iommu_group *group);
void iofd_group_release(struct iommu_group *group);
struct iofd_device *iofd_device_bind(struct iofd_ctx *ictx,
				     struct device *dev);
void iofd_device_unbind(struct iofd_device *idev);
void iofd_device_removed(struct iofd_device *idev);
int iofd_device_attach(struct iofd_device *idev, u32 ioasid, u64 label,
		       struct iofd_attach_conflict *conflict);
int iofd_device_detach(struct iofd_device *idev);
#else
static inline struct iofd_ctx *iofd_ctx_from_file(struct file *file)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iofd_ctx_put(struct iofd_ctx *ictx)
{
}

static inline int iofd_group_claim(struct iofd_ctx *ictx,
				   struct iommu_group *group)
{
	return -EOPNOTSUPP;
}

static inline void iofd_group_release(struct iommu_group *group)
{
}

static inline struct iofd_device *iofd_device_bind(struct iofd_ctx *ictx,
						   struct device *dev)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iofd_device_unbind(struct iofd_device *idev)
{
}

static inline void iofd_device_removed(struct iofd_device *idev)
{
}

static inline int iofd_device_attach(struct iofd_device *idev, u32 ioasid,
				     u64 label,
				     struct iofd_attach_conflict *conflict)
{
	return -EOPNOTSUPP;
}

static inline int iofd_device_detach(struct iofd_device *idev)
{
	return -EOPNOTSUPP;
}
#endif

#endif
