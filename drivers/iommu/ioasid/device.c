// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-kernel API for drivers: binding devices to a context and
 * attaching them to IOASIDs.
 *
 * The IOMMU isolates groups, not devices, so that is where attachment
 * lives: an iofd_group tracks, per context, which IOASID an iommu_group
 * uses and which of its bound devices are attached. The first device of
 * a group to attach attaches the whole group (iommu_attach_group); the
 * others join; when the last one detaches the group goes back to the
 * blocking domain, which the IOMMU core installs while DMA ownership is
 * claimed. All devices of a group therefore use one IOASID: attaching a
 * second one elsewhere is -EBUSY, naming the device in the way.
 *
 * Domains: a group attaching to an IOASID first tries each domain the
 * IOASID already has (the IOMMU driver refuses with -EINVAL a domain it
 * cannot use for this device, such as one of another IOMMU instance);
 * if none fits, it allocates a domain for the device, fills it with the
 * IOASID's mappings and attaches that. A domain lives while a group
 * uses it.
 *
 * Replacing: a group whose only attached device attaches to another
 * IOASID moves with iommu_group_replace_domain(). The new domain is
 * complete before the switch and the old one stays complete until after
 * it, so DMA always translates through one whole, current table. (The
 * IOMMU driver may block translation for the instant of the switch; DMA
 * then faults, it never reaches a stale or partial table.)
 *
 * Faults: every domain the core allocates carries its fault handler,
 * which IOMMU drivers call from their fault interrupt. It turns (domain,
 * device) into (IOASID, label) for the event queues. A group whose last
 * device detaches is not handed back to the IOMMU core's blocking domain
 * but parked on an empty domain of its own, which blocks DMA just as
 * well and still says whose DMA faulted (with no IOASID).
 *
 * The handler relies on no protection of the driver's. VT-d calls it in
 * hard IRQ under RCU; AMD from a threaded IRQ, preemptible, with no lock
 * and no RCU, through a domain pointer it read with nothing to stop us
 * freeing that domain meanwhile. So the handler's token is no pointer:
 * it is the key of a fault source (context, IOASID ID) in a global
 * xarray, which the handler looks up under its own rcu_read_lock(). A
 * source leaves the xarray when its domain is freed and is itself freed
 * an RCU grace period later; keys are never reused. A handler that
 * comes late, however late, finds nothing and reports nothing, and one
 * that finds the source reads only memory freed after a grace period:
 * the source, the context (freed with kfree_rcu()), its RCU lists of
 * event queues and of bound devices, whose label names the device. The
 * one thing we cannot protect is the driver's own read of the domain's
 * handler and token: a driver that frees domains at once, as AMD does,
 * while its fault thread still reads them, has a use-after-free of its
 * own whoever owns the domain.
 *
 * Detach and replace still wait for an RCU grace period after the group
 * left a domain: a fault a driver reports under RCU (VT-d) through the
 * old domain then comes before the invalidation that says the device
 * left it.
 *
 * Each time a group stops reaching an IOASID (detach, replace, removal
 * of the device) the event queues get an invalidation naming the device.
 */
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/msi.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <uapi/linux/ioasid_fd.h>

#include "iofd_private.h"

/*
 * struct iofd_group - an iommu_group, as seen by one context
 * @ictx: the context
 * @group: referenced
 * @users: bound devices of the group
 * @ioasid: the IOASID the group is attached to, referenced; NULL if none
 * @idomain: the domain of @ioasid the group uses
 * @attached: the attached devices, by iofd_device.attached_item
 * @parking: an empty domain of the group's IOMMU, made at the first
 *	attach, that blocks the group's DMA between attachments
 * @parked: the group uses @parking
 *
 * All fields are protected by ictx->lock.
 */
struct iofd_group {
	struct iofd_ctx *ictx;
	struct iommu_group *group;
	unsigned int users;
	struct iofd_ioasid *ioasid;
	struct iofd_domain *idomain;
	struct list_head attached;
	struct iommu_domain *parking;
	bool parked;
};

/*
 * struct iofd_device - a device bound to a context
 * @ictx: the context
 * @igroup: its group in the context
 * @dev: the device
 * @ctx_ref: holds a reference on the context's file
 * @attached: is on igroup->attached, under ictx->lock
 * @removed: the device is going away (iofd_device_removed())
 * @label: the user's name for the device, from its last attach, 0 until
 *	then; kept while the device is detached (its parked group still
 *	reports faults under it) and unique among the context's bound
 *	devices; written under ictx->lock, read under RCU by fault handlers
 * @attached_item: on igroup->attached
 * @ctx_item: on ictx->devices (RCU), while bound
 * @rcu: frees it after fault handlers are done with it
 */
struct iofd_device {
	struct iofd_ctx *ictx;
	struct iofd_group *igroup;
	struct device *dev;
	bool ctx_ref;
	bool attached;
	bool removed;
	u64 label;
	struct list_head attached_item;
	struct list_head ctx_item;
	struct rcu_head rcu;
};

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Let userspace own IOMMU groups whose MSIs are not isolated by the platform (interrupt remapping): a device can then raise interrupts it was not given. Taints the kernel.");

/*
 * A device that can write any MSI can raise interrupts meant for others:
 * userspace may own it only where the platform isolates MSIs, or where
 * the administrator said otherwise (and then the kernel is tainted).
 */
static int iofd_check_msi(struct iommu_group *group)
{
	if (iommu_group_has_isolated_msi(group))
		return 0;
	if (!allow_unsafe_interrupts)
		return -EPERM;
	pr_warn_ratelimited("ioasid_fd: IOMMU group %d has no MSI isolation, given to userspace as allow_unsafe_interrupts says\n",
			    iommu_group_id(group));
	add_taint(TAINT_USER, LOCKDEP_STILL_OK);
	return 0;
}

/**
 * iofd_group_claim - give a whole IOMMU group's DMA to a context
 * @ictx: the context, from iofd_ctx_from_file()
 * @group: the group
 *
 * For a driver that hands out the devices of a group only together (the
 * VFIO group interface): from now on no kernel driver may use any device
 * of @group, its DMA is blocked until a device is attached to an IOASID,
 * and its devices may be bound to @ictx with iofd_device_bind(). Undo
 * with iofd_group_release() once every device is unbound.
 *
 * A group whose MSIs are not isolated is refused, because a device that
 * can write any MSI can inject interrupts into other devices' vectors,
 * unless the allow_unsafe_interrupts parameter says otherwise (which
 * taints the kernel).
 *
 * Return: 0; -EPERM if MSIs are not isolated; -EBUSY if a kernel driver
 * uses a device of the group, or another owner has it.
 */
int iofd_group_claim(struct iofd_ctx *ictx, struct iommu_group *group)
{
	int rc;

	rc = iofd_check_msi(group);
	if (rc)
		return rc;
	/* The IOMMU core says EPERM for "in use": keep EPERM for the MSIs */
	rc = iommu_group_claim_dma_owner(group, ictx);
	return rc == -EPERM ? -EBUSY : rc;
}
EXPORT_SYMBOL_NS_GPL(iofd_group_claim, IOASID_FD);

/**
 * iofd_group_release - undo iofd_group_claim()
 * @group: the group; none of its devices may still be bound
 */
void iofd_group_release(struct iommu_group *group)
{
	iommu_group_release_dma_owner(group);
}
EXPORT_SYMBOL_NS_GPL(iofd_group_release, IOASID_FD);

void iofd_ctx_groups_init(struct iofd_ctx *ictx)
{
	xa_init(&ictx->groups);
	INIT_LIST_HEAD(&ictx->devices);
}

void iofd_ctx_groups_destroy(struct iofd_ctx *ictx)
{
	/* Every device is unbound before the context goes */
	WARN_ON(!xa_empty(&ictx->groups));
	WARN_ON(!list_empty(&ictx->devices));
	xa_destroy(&ictx->groups);
}

/**
 * iofd_device_label_rcu - the label of a bound device
 * @ictx: the context
 * @dev: the device
 *
 * For fault handlers: any context.
 *
 * Return: the label of its last attach, 0 if it has none or is not bound.
 */
static u64 iofd_device_label_rcu(struct iofd_ctx *ictx, struct device *dev)
{
	struct iofd_device *idev;
	u64 label = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(idev, &ictx->devices, ctx_item) {
		if (idev->dev == dev) {
			label = READ_ONCE(idev->label);
			break;
		}
	}
	rcu_read_unlock();
	return label;
}

/*
 * struct iofd_fault_src - whom the faults of a domain are reported to
 * @ictx: the context
 * @ioasid: the ID of the IOASID the domain belongs to; 0 for a parking
 *	domain, whose devices are bound but not attached
 * @key: its index in iofd_fault_srcs, and the domain's handler token
 * @rcu: freed a grace period after it left iofd_fault_srcs
 */
struct iofd_fault_src {
	struct iofd_ctx *ictx;
	u32 ioasid;
	unsigned long key;
	struct rcu_head rcu;
};

/*
 * Fault sources by key, for the handler (see the top of this file). Keys
 * count up from 1 and are never reused, so a stale token cannot name
 * another source (a 32-bit kernel would wrap after 2^32 domains).
 */
static DEFINE_XARRAY(iofd_fault_srcs);
static atomic_long_t iofd_fault_keys;

/*
 * The fault handler of every domain of ours; the IOMMU driver calls it
 * from its fault interrupt, in any context, with or without RCU. The
 * fault is reported, not resolved: an error tells the driver so, and
 * most then log it as they would have. @domain may already be freed and
 * @dev unbound: neither is dereferenced.
 */
static int iofd_domain_fault(struct iommu_domain *domain, struct device *dev,
			     unsigned long iova, int flags, void *token)
{
	struct iofd_fault_src *src;

	rcu_read_lock();
	src = xa_load(&iofd_fault_srcs, (unsigned long)token);
	if (src)
		iofd_report_fault(src->ictx, src->ioasid,
				  dev ? iofd_device_label_rcu(src->ictx, dev) : 0,
				  iova, flags);
	rcu_read_unlock();
	return -EOPNOTSUPP;
}

/*
 * Have @domain report its faults as @ioasid's of @ictx (0: parked). The
 * domain must then be freed with iofd_fault_domain_free().
 */
static int iofd_fault_src_set(struct iommu_domain *domain,
			      struct iofd_ctx *ictx, u32 ioasid)
{
	struct iofd_fault_src *src;
	int rc;

	src = kzalloc(sizeof(*src), GFP_KERNEL_ACCOUNT);
	if (!src)
		return -ENOMEM;
	src->ictx = ictx;
	src->ioasid = ioasid;
	src->key = atomic_long_inc_return(&iofd_fault_keys);
	rc = xa_insert(&iofd_fault_srcs, src->key, src, GFP_KERNEL);
	if (rc) {
		kfree(src);
		return rc;
	}
	iommu_set_fault_handler(domain, iofd_domain_fault, (void *)src->key);
	return 0;
}

/* Free a domain of ours; a late fault of it then finds no source */
static void iofd_fault_domain_free(struct iommu_domain *domain)
{
	unsigned long key = (unsigned long)domain->handler_token;
	struct iofd_fault_src *src;

	iommu_domain_free(domain);
	src = key ? xa_erase(&iofd_fault_srcs, key) : NULL;
	/* A handler may have found it just before */
	if (src)
		kfree_rcu(src, rcu);
}

static struct iofd_group *iofd_group_get(struct iofd_ctx *ictx,
					 struct iommu_group *group)
{
	unsigned int id = iommu_group_id(group);
	struct iofd_group *igroup;
	int rc;

	lockdep_assert_held(&ictx->lock);

	igroup = xa_load(&ictx->groups, id);
	if (igroup) {
		igroup->users++;
		return igroup;
	}

	igroup = kzalloc(sizeof(*igroup), GFP_KERNEL_ACCOUNT);
	if (!igroup)
		return ERR_PTR(-ENOMEM);
	igroup->ictx = ictx;
	igroup->group = group;
	igroup->users = 1;
	INIT_LIST_HEAD(&igroup->attached);
	rc = xa_insert(&ictx->groups, id, igroup, GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(igroup);
		return ERR_PTR(rc);
	}
	iommu_group_ref_get(group);
	return igroup;
}

static void iofd_group_put(struct iofd_group *igroup)
{
	lockdep_assert_held(&igroup->ictx->lock);

	if (--igroup->users)
		return;
	WARN_ON(igroup->ioasid || !list_empty(&igroup->attached));
	if (igroup->parking) {
		/* To the IOMMU core's blocking domain, until ownership ends */
		if (igroup->parked)
			iommu_detach_group(igroup->parking, igroup->group);
		iofd_fault_domain_free(igroup->parking);
	}
	xa_erase(&igroup->ictx->groups, iommu_group_id(igroup->group));
	iommu_group_put(igroup->group);
	kfree(igroup);
}

/**
 * __iofd_device_bind - bind a device to a context
 * @ictx: the context
 * @dev: the device; it must have an IOMMU group
 * @mock: a selftest mock device: the context itself owns it, so the
 *	binding must not hold the context alive, and it has no MSIs
 *
 * Return: the bound device, or ERR_PTR: -ENODEV if @dev has no IOMMU
 * group; -EPERM if its MSIs are not isolated; -EBUSY if a kernel driver
 * uses a device of the group or another context owns it; -ENOMEM.
 */
struct iofd_device *__iofd_device_bind(struct iofd_ctx *ictx,
				       struct device *dev, bool mock)
{
	struct iofd_device *idev;
	struct iommu_group *group;
	int rc;

	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	if (!mock) {
		rc = iofd_check_msi(group);
		if (rc)
			goto err_put_group;
	}

	idev = kzalloc(sizeof(*idev), GFP_KERNEL_ACCOUNT);
	if (!idev) {
		rc = -ENOMEM;
		goto err_put_group;
	}
	idev->ictx = ictx;
	idev->dev = dev;
	INIT_LIST_HEAD(&idev->attached_item);

	/* Fails unless the whole group is free of kernel drivers, or ours */
	rc = iommu_device_claim_dma_owner(dev, ictx);
	if (rc) {
		/* The IOMMU core's EPERM means "owned by someone else" */
		if (rc == -EPERM)
			rc = -EBUSY;
		goto err_free;
	}

	mutex_lock(&ictx->lock);
	idev->igroup = iofd_group_get(ictx, group);
	if (!IS_ERR(idev->igroup))
		list_add_tail_rcu(&idev->ctx_item, &ictx->devices);
	mutex_unlock(&ictx->lock);
	if (IS_ERR(idev->igroup)) {
		rc = PTR_ERR(idev->igroup);
		goto err_release_owner;
	}
	iommu_group_put(group);

	if (!mock) {
		get_file(ictx->file);
		idev->ctx_ref = true;
	}
	return idev;

err_release_owner:
	iommu_device_release_dma_owner(dev);
err_free:
	kfree(idev);
err_put_group:
	iommu_group_put(group);
	return ERR_PTR(rc);
}

/**
 * iofd_device_bind - bind a device to a context, claiming its DMA
 * @ictx: the context, from iofd_ctx_from_file()
 * @dev: the device; it must have an IOMMU group
 *
 * Until iofd_device_unbind(), @ictx owns the device's whole IOMMU group:
 * no kernel driver can bind to any device of it, and its DMA is blocked
 * unless a device is attached to an IOASID. The binding holds a
 * reference on @ictx.
 *
 * Its MSIs must be isolated, unless allow_unsafe_interrupts (see
 * iofd_group_claim()).
 *
 * Return: the bound device, or ERR_PTR: -ENODEV if @dev has no IOMMU
 * group; -EPERM if its MSIs are not isolated; -EBUSY if a kernel driver
 * uses a device of the group or another owner has it; -ENOMEM.
 */
struct iofd_device *iofd_device_bind(struct iofd_ctx *ictx, struct device *dev)
{
	return __iofd_device_bind(ictx, dev, false);
}
EXPORT_SYMBOL_NS_GPL(iofd_device_bind, IOASID_FD);

/* The bound device that holds @label, attached or parked */
static struct iofd_device *iofd_label_owner(struct iofd_ctx *ictx, u64 label)
{
	struct iofd_device *idev;

	lockdep_assert_held(&ictx->lock);

	list_for_each_entry(idev, &ictx->devices, ctx_item)
		if (idev->label == label)
			return idev;
	return NULL;
}

/* The attached device that has @label */
static struct iofd_device *iofd_label_user(struct iofd_ctx *ictx, u64 label)
{
	struct iofd_group *igroup;
	struct iofd_device *idev;
	unsigned long index;

	lockdep_assert_held(&ictx->lock);

	xa_for_each(&ictx->groups, index, igroup)
		list_for_each_entry(idev, &igroup->attached, attached_item)
			if (idev->label == label)
				return idev;
	return NULL;
}

/* Point the group's DMA at @domain, atomically if it had another */
static int iofd_group_set_domain(struct iofd_group *igroup,
				 struct iommu_domain *domain)
{
	if (iofd_should_fail())
		return -ENOMEM;
	if (igroup->idomain || igroup->parked)
		return iommu_group_replace_domain(igroup->group, domain);
	return iommu_attach_group(domain, igroup->group);
}

/*
 * Drop a group's use of @idomain, which it has left. The caller waited
 * for RCU readers, so that faults reported under RCU through it are in
 * the queues before the invalidation it reports next.
 */
static void iofd_domain_put(struct iofd_iopt *iopt, struct iofd_domain *idomain)
{
	down_write(&iopt->domains_rwsem);
	if (--idomain->users) {
		up_write(&iopt->domains_rwsem);
		return;
	}
	list_del(&idomain->item);
	up_write(&iopt->domains_rwsem);
	iofd_fault_domain_free(idomain->domain);
	kfree(idomain);
}

/* The empty domain a detached group waits on, made at its first attach */
static int iofd_group_make_parking(struct iofd_group *igroup,
				   struct device *dev)
{
	struct iommu_domain *domain;
	int rc;

	if (igroup->parking)
		return 0;
	if (iofd_should_fail())
		return -ENOMEM;
	domain = iommu_paging_domain_alloc(dev);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	rc = iofd_fault_src_set(domain, igroup->ictx, 0);
	if (rc) {
		iommu_domain_free(domain);
		return rc;
	}
	igroup->parking = domain;
	return 0;
}

/* Where the IOMMU translates MSIs in software, tell the DMA layer where */
static int iofd_domain_msi_cookie(struct iommu_domain *domain,
				  struct device *dev)
{
	struct iommu_resv_region *resv;
	LIST_HEAD(regions);
	int rc = 0;

	iommu_get_resv_regions(dev, &regions);
	list_for_each_entry(resv, &regions, list) {
		if (resv->type != IOMMU_RESV_SW_MSI)
			continue;
		rc = iommu_get_msi_cookie(domain, resv->start);
		break;
	}
	iommu_put_resv_regions(dev, &regions);
	return rc;
}

/*
 * A new domain for @dev, ready to be attached: it can map CPU pages, it
 * enforces cache coherency if the device can (VFIO tells KVM that DMA of
 * such a device is coherent, see vfio_group_enforced_coherent()), its
 * MSI cookie is set, and it holds every mapping of @iopt.
 */
static struct iofd_domain *iofd_domain_alloc(struct iofd_ioasid *ioasid,
					     struct device *dev)
{
	struct iofd_iopt *iopt = &ioasid->iopt;
	struct iofd_domain *idomain;
	struct iommu_domain *domain;
	int rc;

	lockdep_assert_held_write(&iopt->domains_rwsem);

	idomain = kzalloc(sizeof(*idomain), GFP_KERNEL_ACCOUNT);
	if (!idomain)
		return ERR_PTR(-ENOMEM);
	domain = iommu_paging_domain_alloc(dev);
	if (IS_ERR(domain)) {
		rc = PTR_ERR(domain);
		goto err_free_idomain;
	}
	rc = iofd_fault_src_set(domain, ioasid->ictx, ioasid->obj.id);
	if (rc)
		goto err_free_domain;
	/* Memory is pinned in CPU pages: the IOMMU must be able to map one */
	if (__ffs(domain->pgsize_bitmap) > PAGE_SHIFT) {
		rc = -EINVAL;
		goto err_free_domain;
	}
	if (device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY)) {
		/* Before the first mapping, which some drivers require */
		if (!domain->ops->enforce_cache_coherency ||
		    !domain->ops->enforce_cache_coherency(domain)) {
			rc = -EINVAL;
			goto err_free_domain;
		}
		idomain->coherent = true;
	}
	/* Whether UNMAP may queue its gather and flush everything once */
	idomain->deferred_flush = iopt_dev_queues_gather(dev);
	rc = iofd_domain_msi_cookie(domain, dev);
	if (rc)
		goto err_free_domain;
	rc = iopt_fill_domain(iopt, domain);
	if (rc)
		goto err_free_domain;
	idomain->domain = domain;
	return idomain;

err_free_domain:
	iofd_fault_domain_free(domain);
err_free_idomain:
	kfree(idomain);
	return ERR_PTR(rc);
}

/*
 * May @dev use @idomain? A device whose coherency must be enforced only
 * joins a domain that enforces it. Whether the domain is its IOMMU
 * driver's, the IOMMU core's replace checks (-EINVAL: try the next one).
 */
static bool iofd_domain_fits(struct iofd_domain *idomain, struct device *dev)
{
	return idomain->coherent ||
	       !device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
}

/*
 * Attach @igroup, whose only attached device (if any) is @idev, to
 * @ioasid. On success the group holds @ioasid itself (DESTROY is EBUSY
 * while it does); the caller's reference stays the caller's to put.
 */
static int iofd_group_switch(struct iofd_group *igroup,
			     struct iofd_ioasid *ioasid,
			     struct iofd_device *idev)
{
	struct iofd_ioasid *old_ioasid = igroup->ioasid;
	struct iofd_domain *old_idomain = igroup->idomain;
	struct iofd_iopt *iopt = &ioasid->iopt;
	struct iofd_domain *idomain;
	int rc;

	lockdep_assert_held(&igroup->ictx->lock);

	rc = iofd_group_make_parking(igroup, idev->dev);
	if (rc)
		return rc;

	down_write(&iopt->domains_rwsem);
	rc = iopt_reserve_dev_regions(iopt, idev->dev, idev);
	if (rc)
		goto err_unlock;

	list_for_each_entry(idomain, &iopt->domains, item) {
		if (!iofd_domain_fits(idomain, idev->dev))
			continue;
		rc = iofd_group_set_domain(igroup, idomain->domain);
		if (rc == -EINVAL)
			continue;	/* the driver cannot use it for this device */
		if (rc)
			goto err_unreserve;
		idomain->users++;
		goto attached;
	}

	idomain = iofd_domain_alloc(ioasid, idev->dev);
	if (IS_ERR(idomain)) {
		rc = PTR_ERR(idomain);
		goto err_unreserve;
	}
	rc = iofd_group_set_domain(igroup, idomain->domain);
	if (rc)
		goto err_free_domain;
	idomain->users = 1;
	list_add_tail(&idomain->item, &iopt->domains);

attached:
	up_write(&iopt->domains_rwsem);
	igroup->ioasid = ioasid;
	igroup->idomain = idomain;
	igroup->parked = false;
	if (old_ioasid) {
		/* The group no longer uses the old domain: let it go */
		synchronize_rcu();
		iopt_unreserve(&old_ioasid->iopt, idev);
		iofd_domain_put(&old_ioasid->iopt, old_idomain);
		iofd_report_inval(igroup->ictx, old_ioasid->obj.id, idev->label,
				  0, U64_MAX, IOASID_INVAL_DEVICE_DETACHED, 0);
		iofd_object_unhold(&old_ioasid->obj);
	}
	/* The group's own reference: DESTROY is EBUSY while it is there */
	iofd_object_hold(&ioasid->obj);
	return 0;

err_free_domain:
	iofd_fault_domain_free(idomain->domain);
	kfree(idomain);
err_unreserve:
	up_write(&iopt->domains_rwsem);
	iopt_unreserve(iopt, idev);
	return rc;

err_unlock:
	up_write(&iopt->domains_rwsem);
	return rc;
}

/**
 * iofd_device_attach - attach a bound device to an IOASID
 * @idev: the device, from iofd_device_bind()
 * @ioasid: the ID of an IOASID of the device's context
 * @label: the user's name for the device, not 0 and unique among the
 *	context's bound devices; what the context reports about the device
 *	names it by this, even once it is detached
 * @conflict: if not NULL, filled when the call fails because another
 *	device of the group is attached elsewhere
 *
 * Attaching an attached device to another IOASID replaces the attachment
 * atomically (see the top of device.c); attaching it again to the same
 * IOASID only changes its label.
 *
 * Return: 0; -EINVAL if @label is 0 (events say "no device" with it);
 * -ENOENT if @ioasid names no IOASID; -EEXIST if another device of the
 * context, attached or not, has @label; -EBUSY if another device of the
 * IOMMU group is attached to another IOASID; -EADDRINUSE if the device's
 * IOMMU cannot translate, or reserves, an IOVA the IOASID has mapped;
 * -ENOMEM, or the IOMMU driver's error. On failure nothing changed.
 */
int iofd_device_attach(struct iofd_device *idev, u32 ioasid, u64 label,
		       struct iofd_attach_conflict *conflict)
{
	struct iofd_group *igroup = idev->igroup;
	struct iofd_ctx *ictx = idev->ictx;
	struct iofd_device *other;
	struct iofd_ioasid *new;
	int rc;

	if (!label)
		return -EINVAL;
	new = iofd_get_ioasid(ictx, ioasid);
	if (IS_ERR(new))
		return PTR_ERR(new);

	mutex_lock(&ictx->lock);
	other = iofd_label_owner(ictx, label);
	if (other && other != idev) {
		rc = -EEXIST;
		goto out_put;
	}

	if (igroup->ioasid == new) {
		if (!idev->attached) {
			down_write(&new->iopt.domains_rwsem);
			rc = iopt_reserve_dev_regions(&new->iopt, idev->dev,
						      idev);
			up_write(&new->iopt.domains_rwsem);
			if (rc)
				goto out_put;
			list_add_tail(&idev->attached_item, &igroup->attached);
			idev->attached = true;
		}
		/* Fault handlers read it locklessly */
		WRITE_ONCE(idev->label, label);
		rc = 0;
		goto out_put;
	}

	list_for_each_entry(other, &igroup->attached, attached_item) {
		if (other == idev)
			continue;
		if (conflict) {
			conflict->label = other->label;
			strscpy(conflict->dev_name, dev_name(other->dev),
				sizeof(conflict->dev_name));
		}
		rc = -EBUSY;
		goto out_put;
	}

	rc = iofd_group_switch(igroup, new, idev);
	if (rc)
		goto out_put;
	if (!idev->attached) {
		list_add_tail(&idev->attached_item, &igroup->attached);
		idev->attached = true;
	}
	WRITE_ONCE(idev->label, label);

out_put:
	mutex_unlock(&ictx->lock);
	iofd_put_object(&new->obj);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iofd_device_attach, IOASID_FD);

/**
 * iofd_device_detach - detach a device from its IOASID
 * @idev: the device, from iofd_device_bind()
 *
 * When the last attached device of its IOMMU group detaches, the group's
 * DMA is blocked.
 *
 * Return: 0, or -ENOENT if the device is not attached.
 */
int iofd_device_detach(struct iofd_device *idev)
{
	struct iofd_group *igroup = idev->igroup;
	struct iofd_ctx *ictx = idev->ictx;
	struct iofd_ioasid *ioasid;

	mutex_lock(&ictx->lock);
	if (!idev->attached) {
		mutex_unlock(&ictx->lock);
		return -ENOENT;
	}
	ioasid = igroup->ioasid;
	list_del_init(&idev->attached_item);
	idev->attached = false;

	if (list_empty(&igroup->attached)) {
		/*
		 * To the empty parking domain: DMA stops here, and still
		 * faults under the device's label. Should the driver refuse
		 * it, to the IOMMU core's blocking domain.
		 */
		if (iommu_group_replace_domain(igroup->group, igroup->parking))
			iommu_detach_group(igroup->idomain->domain,
					   igroup->group);
		else
			igroup->parked = true;
		/* Fault interrupts that saw the old domain are done */
		synchronize_rcu();
		iofd_domain_put(&ioasid->iopt, igroup->idomain);
		igroup->ioasid = NULL;
		igroup->idomain = NULL;
		iofd_report_inval(ictx, ioasid->obj.id, idev->label, 0,
				  U64_MAX, idev->removed ?
				  IOASID_INVAL_DEVICE_REMOVED :
				  IOASID_INVAL_DEVICE_DETACHED, 0);
	} else if (idev->removed) {
		/*
		 * The group stays attached for the others, but this device,
		 * quiesced by its driver, will never reach the IOASID again:
		 * its user must hear of it, as of a group's last device.
		 */
		iofd_report_inval(ictx, ioasid->obj.id, idev->label, 0,
				  U64_MAX, IOASID_INVAL_DEVICE_REMOVED, 0);
	}
	/* Only now may MAP use what the device reserved */
	iopt_unreserve(&ioasid->iopt, idev);
	if (!igroup->ioasid)
		iofd_object_unhold(&ioasid->obj);
	mutex_unlock(&ictx->lock);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(iofd_device_detach, IOASID_FD);

/**
 * iofd_device_unbind - undo iofd_device_bind()
 * @idev: the device; freed
 *
 * Detaches the device if it is attached and gives its DMA ownership back;
 * when the last device of the group is unbound the group may be used by
 * kernel drivers again.
 */
void iofd_device_unbind(struct iofd_device *idev)
{
	struct iofd_ctx *ictx = idev->ictx;

	iofd_device_detach(idev);
	mutex_lock(&ictx->lock);
	list_del_rcu(&idev->ctx_item);
	iofd_group_put(idev->igroup);
	mutex_unlock(&ictx->lock);
	iommu_device_release_dma_owner(idev->dev);
	if (idev->ctx_ref)
		fput(ictx->file);
	/* A fault interrupt may be looking up its label */
	kfree_rcu(idev, rcu);
}
EXPORT_SYMBOL_NS_GPL(iofd_device_unbind, IOASID_FD);

/**
 * iofd_device_removed - say that a bound device is going away
 * @idev: the device, from iofd_device_bind()
 *
 * For a driver whose device is being removed (hot-unplug, driver unbind)
 * while it is bound: the invalidation the context reports when the
 * device leaves its IOASID then says the device was removed rather than
 * detached. Call it before iofd_device_unbind().
 */
void iofd_device_removed(struct iofd_device *idev)
{
	mutex_lock(&idev->ictx->lock);
	idev->removed = true;
	mutex_unlock(&idev->ictx->lock);
}
EXPORT_SYMBOL_NS_GPL(iofd_device_removed, IOASID_FD);

struct iofd_device_info_resv {
	struct ioasid_iova_range *ranges;
	u32 capacity;
	u32 total;
};

/*
 * The device's reserved regions, as the IOASID sees them (see
 * iopt_reserve_dev_regions()), into a kernel buffer that the caller
 * copies out once the locks are dropped.
 */
static void iofd_device_info_regions(struct device *dev,
				     struct iofd_device_info_resv *resv)
{
	struct iommu_resv_region *region;
	LIST_HEAD(regions);

	iommu_get_resv_regions(dev, &regions);
	list_for_each_entry(region, &regions, list) {
		unsigned long last;

		if (region->type == IOMMU_RESV_DIRECT_RELAXABLE ||
		    !region->length ||
		    check_add_overflow((unsigned long)region->start,
				       region->length - 1, &last))
			continue;
		if (resv->total < resv->capacity) {
			resv->ranges[resv->total].start = region->start;
			resv->ranges[resv->total].last = last;
		}
		resv->total++;
	}
	iommu_put_resv_regions(dev, &regions);
}

int iofd_device_info_ioctl(struct iofd_ucmd *ucmd)
{
	struct ioasid_device_info *cmd = ucmd->cmd;
	struct iofd_ctx *ictx = ucmd->ictx;
	struct iofd_device_info_resv resv = {};
	struct iommu_domain *domain;
	struct iofd_device *idev;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;

	/* No IOMMU reports that many: a bound on what the user makes us allocate */
	resv.capacity = min_t(u32, cmd->num_reserved, 256);
	if (resv.capacity) {
		resv.ranges = kcalloc(resv.capacity, sizeof(*resv.ranges),
				      GFP_KERNEL_ACCOUNT);
		if (!resv.ranges)
			return -ENOMEM;
	}

	mutex_lock(&ictx->lock);
	idev = iofd_label_user(ictx, cmd->label);
	if (!idev) {
		mutex_unlock(&ictx->lock);
		rc = -ENOENT;
		goto out_free;
	}
	domain = idev->igroup->idomain->domain;
	cmd->out_ioasid = idev->igroup->ioasid->obj.id;
	cmd->out_flags = 0;
	if (msi_device_has_isolated_msi(idev->dev))
		cmd->out_flags |= IOASID_DEVICE_MSI_ISOLATED;
	if (idev->igroup->idomain->coherent)
		cmd->out_flags |= IOASID_DEVICE_COHERENT;
	cmd->out_pgsize_bitmap = domain->pgsize_bitmap;
	if (domain->geometry.force_aperture) {
		cmd->out_aperture_start = domain->geometry.aperture_start;
		cmd->out_aperture_last = domain->geometry.aperture_end;
	} else {
		cmd->out_aperture_start = 0;
		cmd->out_aperture_last = U64_MAX;
	}
	iofd_device_info_regions(idev->dev, &resv);
	mutex_unlock(&ictx->lock);

	/* Copied out with no lock held: the user's memory may fault */
	if (resv.total && resv.capacity &&
	    copy_to_user(u64_to_user_ptr(cmd->reserved), resv.ranges,
			 min(resv.total, resv.capacity) *
			 sizeof(*resv.ranges))) {
		rc = -EFAULT;
		goto out_free;
	}
	cmd->num_reserved = resv.total;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc && resv.total > resv.capacity)
		rc = -EMSGSIZE;
out_free:
	kfree(resv.ranges);
	return rc;
}
