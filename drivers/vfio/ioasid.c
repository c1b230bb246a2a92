// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO groups and devices under /dev/ioasid.
 *
 * VFIO_GROUP_BIND_IOASID_FD is the alternative to a container: it hands
 * the DMA of the whole group to an ioasid context (iofd_group_claim), so
 * that the group is entirely the user's before any device is opened, or
 * the call fails and names the device in the way: one bound to a kernel
 * driver that does its own DMA (the group is not viable), or one whose
 * MSIs are not isolated. A no-IOMMU group is never bound: there would be
 * no I/O page table to put its DMA in.
 *
 * The group then gives out device fds. The first open of a device binds
 * it to the context, after which VFIO_DEVICE_ATTACH_IOASID attaches it
 * to an IOASID under the user's label and VFIO_DEVICE_DETACH_IOASID
 * blocks its DMA again. The last close quiesces the device (the driver's
 * close_device) before unbinding it, so DMA stops before the I/O page
 * table goes away.
 *
 * The group holds a reference on the ioasid fd and each open device holds
 * the group's file (as with a container), so whatever order userspace
 * closes them in, the teardown runs devices first, then the group, then
 * the context.
 *
 * The new ioctls follow /dev/ioasid's extensible-structure rules with
 * argsz as the size: argsz below the first release is EINVAL, a non-zero
 * unknown tail is E2BIG, unknown flags or reserved bits are EOPNOTSUPP.
 */
#include <linux/file.h>
#include <linux/ioasid_fd.h>
#include <linux/iommu.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/vfio.h>

#include "vfio.h"

MODULE_IMPORT_NS(IOASID_FD);

/* Copy in a structure whose first field is argsz, by the rules above */
static int vfio_ioasid_copy_in(void *cmd, size_t size, size_t minsz,
			       void __user *arg)
{
	u32 argsz;

	if (get_user(argsz, (u32 __user *)arg))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	return copy_struct_from_user(cmd, size, arg, argsz);
}

/* Copy back what fits in the caller's argsz */
static int vfio_ioasid_copy_out(void __user *arg, const void *cmd,
				size_t size, u32 argsz)
{
	return copy_to_user(arg, cmd, min_t(size_t, size, argsz)) ? -EFAULT : 0;
}

/*
 * Name a device of the group that a kernel driver doing its own DMA has.
 * The name is copied here, where the group's mutex keeps the device alive.
 * Only PCI drivers are known to manage their own DMA; for other buses any
 * driver is named, which only matters for the message.
 */
static int vfio_ioasid_kernel_user(struct device *dev, void *data)
{
	struct vfio_group_bind_ioasid_fd *cmd = data;

	if (!dev->driver)
		return 0;
	if (dev_is_pci(dev) && to_pci_driver(dev->driver)->driver_managed_dma)
		return 0;
	strscpy(cmd->out_dev_name, dev_name(dev), sizeof(cmd->out_dev_name));
	return 1;
}

/* Name a device of the group whose MSIs are not isolated */
static int vfio_ioasid_unisolated(struct device *dev, void *data)
{
	struct vfio_group_bind_ioasid_fd *cmd = data;

	if (msi_device_has_isolated_msi(dev))
		return 0;
	strscpy(cmd->out_dev_name, dev_name(dev), sizeof(cmd->out_dev_name));
	return 1;
}

int vfio_group_ioctl_bind_ioasid_fd(struct vfio_group *group, void __user *arg)
{
	struct vfio_group_bind_ioasid_fd cmd;
	struct iofd_ctx *ictx;
	struct fd f;
	int ret;

	ret = vfio_ioasid_copy_in(&cmd, sizeof(cmd),
				  offsetofend(struct vfio_group_bind_ioasid_fd,
					      out_dev_name), arg);
	if (ret)
		return ret;
	if (cmd.flags || cmd.__reserved)
		return -EOPNOTSUPP;
	memset(cmd.out_dev_name, 0, sizeof(cmd.out_dev_name));

	f = fdget(cmd.ioasid_fd);
	if (!fd_file(f))
		return -EBADF;
	ictx = iofd_ctx_from_file(fd_file(f));
	fdput(f);
	if (IS_ERR(ictx))
		return PTR_ERR(ictx);

	mutex_lock(&group->group_lock);
	if (group->container || group->iommufd || group->ioasid) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!group->iommu_group) {
		ret = -ENODEV;
		goto out_unlock;
	}
	/* No IOMMU, no I/O page table: nothing to bind */
	if (group->type != VFIO_IOMMU) {
		ret = -EINVAL;
		goto out_unlock;
	}

	ret = iofd_group_claim(ictx, group->iommu_group);
	if (ret == -EPERM)
		iommu_group_for_each_dev(group->iommu_group, &cmd,
					 vfio_ioasid_unisolated);
	else if (ret == -EBUSY)
		iommu_group_for_each_dev(group->iommu_group, &cmd,
					 vfio_ioasid_kernel_user);
	if (ret)
		goto out_unlock;

	/* The group keeps the reference on the context */
	group->ioasid = ictx;
	ictx = NULL;
out_unlock:
	mutex_unlock(&group->group_lock);
	if (ictx)
		iofd_ctx_put(ictx);
	if (cmd.out_dev_name[0] &&
	    vfio_ioasid_copy_out(arg, &cmd, sizeof(cmd), cmd.argsz))
		return -EFAULT;
	return ret;
}

/*
 * Called with group_lock held, once no device of the group is bound: at
 * UNBIND, at the group fd's release, or when the group's last device goes
 * away (vfio_device_remove_group()), before the iommu_group is dropped.
 */
void vfio_group_unbind_ioasid(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);

	if (WARN_ON(group->ioasid_devices))
		return;
	if (group->iommu_group)
		iofd_group_release(group->iommu_group);
	iofd_ctx_put(group->ioasid);
	group->ioasid = NULL;
}

int vfio_group_ioctl_unbind_ioasid_fd(struct vfio_group *group,
				      void __user *arg)
{
	struct vfio_group_unbind_ioasid_fd cmd;
	int ret;

	ret = vfio_ioasid_copy_in(&cmd, sizeof(cmd),
				  offsetofend(struct vfio_group_unbind_ioasid_fd,
					      flags), arg);
	if (ret)
		return ret;
	if (cmd.flags)
		return -EOPNOTSUPP;

	mutex_lock(&group->group_lock);
	if (!group->ioasid)
		ret = -EINVAL;
	else if (group->ioasid_devices)
		ret = -EBUSY;
	else
		vfio_group_unbind_ioasid(group);
	mutex_unlock(&group->group_lock);
	return ret;
}

/* First open of a device of an ioasid-bound group */
int vfio_device_ioasid_bind(struct vfio_device *device)
{
	struct vfio_group *group = device->group;
	struct iofd_device *idev;

	lockdep_assert_held(&group->group_lock);
	lockdep_assert_held(&device->dev_set->lock);

	idev = iofd_device_bind(group->ioasid, device->dev);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	device->iofd_dev = idev;
	group->ioasid_devices++;
	/* The group, and its ownership of the DMA, outlive the open device */
	get_file(group->opened_file);
	return 0;
}

/* Last close, after the driver's close_device() quiesced the device */
void vfio_device_ioasid_unbind(struct vfio_device *device)
{
	struct vfio_group *group = device->group;

	lockdep_assert_held(&group->group_lock);
	lockdep_assert_held(&device->dev_set->lock);

	/*
	 * vfio_unregister_group_dev() deletes the vfio device before it
	 * waits for the user to close it: the device is going away.
	 */
	if (!device_is_registered(&device->device))
		iofd_device_removed(device->iofd_dev);
	iofd_device_unbind(device->iofd_dev);
	device->iofd_dev = NULL;
	group->ioasid_devices--;
	fput(group->opened_file);
}

int vfio_df_ioctl_attach_ioasid(struct vfio_device_file *df, void __user *arg)
{
	struct vfio_device *device = df->device;
	struct iofd_attach_conflict conflict = {};
	struct vfio_device_attach_ioasid cmd;
	int ret;

	ret = vfio_ioasid_copy_in(&cmd, sizeof(cmd),
				  offsetofend(struct vfio_device_attach_ioasid,
					      out_blocking_dev), arg);
	if (ret)
		return ret;
	if (cmd.flags || cmd.__reserved)
		return -EOPNOTSUPP;
	/* Set at first open, cleared at last close: stable while df is open */
	if (!device->iofd_dev)
		return -EINVAL;

	ret = iofd_device_attach(device->iofd_dev, cmd.ioasid, cmd.label,
				 &conflict);
	if (ret == -EBUSY) {
		cmd.out_blocking_label = conflict.label;
		BUILD_BUG_ON(sizeof(cmd.out_blocking_dev) !=
			     sizeof(conflict.dev_name));
		memcpy(cmd.out_blocking_dev, conflict.dev_name,
		       sizeof(cmd.out_blocking_dev));
		if (vfio_ioasid_copy_out(arg, &cmd, sizeof(cmd), cmd.argsz))
			return -EFAULT;
	}
	return ret;
}

int vfio_df_ioctl_detach_ioasid(struct vfio_device_file *df, void __user *arg)
{
	struct vfio_device *device = df->device;
	struct vfio_device_detach_ioasid cmd;
	int ret;

	ret = vfio_ioasid_copy_in(&cmd, sizeof(cmd),
				  offsetofend(struct vfio_device_detach_ioasid,
					      flags), arg);
	if (ret)
		return ret;
	if (cmd.flags)
		return -EOPNOTSUPP;
	if (!device->iofd_dev)
		return -EINVAL;
	return iofd_device_detach(device->iofd_dev);
}
