// SPDX-License-Identifier: GPL-2.0-only
/*
 * The selftest mock: two fake IOMMUs, fake devices behind them, and the
 * IOASID_TEST ioctl that drives them. Built only with
 * CONFIG_IOASID_FD_TEST.
 *
 * The mock IOMMUs are real IOMMU driver instances, registered with the
 * IOMMU core, so that the code under test takes the same path for a
 * mock device as for a PCI device behind VT-d: DMA ownership, groups,
 * iommu_paging_domain_alloc(), attach and replace, reserved regions, the
 * blocking domain. Mock devices are platform devices whose fwspec names
 * a mock IOMMU (on x86 the IOMMU core finds VT-d for devices without
 * one). The two mock IOMMUs differ in aperture, page sizes and reserved
 * window, and refuse each other's domains, so an IOASID with a device on
 * each keeps two domains.
 *
 * A mock domain's page table is an xarray of 4KiB entries, and its IOTLB
 * is the worst case a caller must assume of hardware: every translation
 * removed from the page table stays cached until an invalidation covers
 * its IOVA, and a device's access uses a cached translation before the
 * page table. It flushes exactly what the drivers flush, not more:
 * - unmap adds each page it removes to the gather as io-pgtable-arm does
 *   for SMMUv3 (a range disjoint from the gathered one, or of another
 *   size, is flushed first), and adds nothing to a queued gather;
 * - iotlb_sync invalidates [gather->start, gather->end], and nothing at
 *   all when no page was gathered (pgsize 0), as arm_smmu_iotlb_sync();
 * - flush_iotlb_all invalidates everything, the flush a queued gather
 *   promises. Mock IOMMU A reports IOMMU_CAP_DEFERRED_FLUSH, as SMMUv3
 *   and VT-d do, mock IOMMU B does not, so both ways of unmapping run.
 * It counts the calls it gets (map, map sync, unmap, IOTLB flush) and
 * checks the rule that matters most: a page must stay pinned until no
 * IOTLB entry points at it. A page found unpinned when its entry is
 * invalidated, or reached through a stale entry by a mock DMA, was given
 * back while a device could still reach it: both count as late unpins,
 * and that DMA fails with -ESTALE rather than touch the page.
 *
 * The mock device "does DMA" by translating IOVAs through whatever domain
 * its group is attached to right now, as hardware would, and reports a
 * DMA it cannot translate the way IOMMU drivers do: report_iommu_fault()
 * with interrupts off and a raw spinlock held, as from a fault interrupt
 * that is never threaded.
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <uapi/linux/ioasid_fd.h>

#include "iofd_private.h"
#include "iofd_test.h"

DECLARE_FAULT_ATTR(iofd_fail_attr);
static struct dentry *iofd_fail_dentry;

#define MOCK_PAGE_SHIFT 12
#define MOCK_PAGE_SIZE BIT(MOCK_PAGE_SHIFT)
/* A mock PTE: the PFN, and IOMMU_READ/IOMMU_WRITE in the low bits */
#define MOCK_PTE_PROT (IOMMU_READ | IOMMU_WRITE)
#define MOCK_PTE_PFN_SHIFT 2
/* The mock's own fault reasons, as IOMMU_FAULT_REASON() passes them */
#define MOCK_FAULT_NOT_PRESENT 1
#define MOCK_FAULT_PERMISSION 2

struct mock_iommu {
	struct iommu_device iommu;
	struct fwnode_handle fwnode;
	unsigned int index;
	u64 aperture_last;
	u64 resv_start;
	u64 resv_last;
	unsigned long pgsize_bitmap;
};

static struct mock_iommu mock_iommus[IOASID_MOCK_NUM_IOMMUS] = {
	[IOASID_MOCK_IOMMU_A] = {
		.index = IOASID_MOCK_IOMMU_A,
		.aperture_last = IOASID_MOCK_A_LAST,
		.resv_start = IOASID_MOCK_A_RESV_START,
		.resv_last = IOASID_MOCK_A_RESV_LAST,
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
	},
	[IOASID_MOCK_IOMMU_B] = {
		.index = IOASID_MOCK_IOMMU_B,
		.aperture_last = IOASID_MOCK_B_LAST,
		.resv_start = IOASID_MOCK_B_RESV_START,
		.resv_last = IOASID_MOCK_B_RESV_LAST,
		.pgsize_bitmap = SZ_4K,
	},
};

/*
 * struct mock_domain - a mock I/O page table
 * @lock: serializes changes to @pfns and @iotlb with the mock DMA that
 *	reads them
 * @pfns: IOVA >> 12 -> PTE (xa_mk_value)
 * @iotlb: IOVA >> 12 -> PTE, for the entries unmapped from @pfns that no
 *	invalidation has covered yet: what a device can still reach
 */
struct mock_domain {
	struct iommu_domain domain;
	struct mock_iommu *iommu;
	struct mutex lock;	/* @pfns against mock DMA */
	struct xarray pfns;
	struct xarray iotlb;
	atomic64_t maps;
	atomic64_t unmaps;
	atomic64_t flushes;
	atomic64_t late_unpins;
	atomic64_t huge_maps;
	atomic64_t map_syncs;
};

static const struct iommu_domain_ops mock_domain_ops;

static struct mock_domain *to_mock_domain(struct iommu_domain *domain)
{
	if (!domain || domain->ops != &mock_domain_ops)
		return NULL;
	return container_of(domain, struct mock_domain, domain);
}

static struct mock_iommu *dev_to_mock_iommu(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	unsigned int i;

	if (!fwspec)
		return NULL;
	for (i = 0; i != ARRAY_SIZE(mock_iommus); i++)
		if (fwspec->iommu_fwnode == &mock_iommus[i].fwnode)
			return &mock_iommus[i];
	return NULL;
}

static int mock_blocking_attach(struct iommu_domain *domain,
				struct device *dev)
{
	return 0;
}

static struct iommu_domain mock_blocking_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &(const struct iommu_domain_ops){
		.attach_dev = mock_blocking_attach,
	},
};

static struct iommu_domain *mock_domain_alloc_paging(struct device *dev)
{
	struct mock_iommu *iommu = dev_to_mock_iommu(dev);
	struct mock_domain *mock;

	if (!iommu)
		return ERR_PTR(-ENODEV);
	mock = kzalloc(sizeof(*mock), GFP_KERNEL);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	mock->iommu = iommu;
	mutex_init(&mock->lock);
	xa_init(&mock->pfns);
	xa_init(&mock->iotlb);
	mock->domain.ops = &mock_domain_ops;
	mock->domain.pgsize_bitmap = iommu->pgsize_bitmap;
	mock->domain.geometry.aperture_start = 0;
	mock->domain.geometry.aperture_end = iommu->aperture_last;
	mock->domain.geometry.force_aperture = true;
	return &mock->domain;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *mock = to_mock_domain(domain);

	/*
	 * A domain may be freed with mappings once no device uses it, but
	 * never with unmapped pages whose IOTLB flush did not come.
	 */
	WARN_ON(!xa_empty(&mock->iotlb));
	xa_destroy(&mock->pfns);
	xa_destroy(&mock->iotlb);
	kfree(mock);
}

static int mock_domain_attach(struct iommu_domain *domain, struct device *dev)
{
	/* A mock IOMMU can only use its own page tables */
	if (to_mock_domain(domain)->iommu != dev_to_mock_iommu(dev))
		return -EINVAL;
	return 0;
}

static int mock_domain_map_pages(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped)
{
	struct mock_domain *mock = to_mock_domain(domain);
	unsigned long n = (pgsize * pgcount) >> MOCK_PAGE_SHIFT, i;
	int rc = 0;

	atomic64_inc(&mock->maps);
	if (pgsize > MOCK_PAGE_SIZE)
		atomic64_inc(&mock->huge_maps);

	mutex_lock(&mock->lock);
	for (i = 0; i != n; i++) {
		unsigned long pte = ((PHYS_PFN(paddr) + i) << MOCK_PTE_PFN_SHIFT) |
				    (prot & MOCK_PTE_PROT);

		rc = xa_insert(&mock->pfns, (iova >> MOCK_PAGE_SHIFT) + i,
			       xa_mk_value(pte), gfp);
		/* Mapping over a mapping is a bug in the caller */
		if (WARN_ON(rc == -EBUSY))
			rc = -EEXIST;
		if (rc)
			break;
	}
	if (rc) {
		while (i--)
			xa_erase(&mock->pfns, (iova >> MOCK_PAGE_SHIFT) + i);
	} else {
		*mapped = pgsize * pgcount;
	}
	mutex_unlock(&mock->lock);
	return rc;
}

static size_t mock_domain_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct mock_domain *mock = to_mock_domain(domain);
	unsigned long n = (pgsize * pgcount) >> MOCK_PAGE_SHIFT, i;

	atomic64_inc(&mock->unmaps);
	for (i = 0; i != n; i++) {
		unsigned long index = (iova >> MOCK_PAGE_SHIFT) + i;
		void *pte;

		mutex_lock(&mock->lock);
		pte = xa_erase(&mock->pfns, index);
		/* Cached until an invalidation covers it */
		if (pte)
			xa_store(&mock->iotlb, index, pte, GFP_KERNEL);
		mutex_unlock(&mock->lock);
		if (!pte)
			break;
		/*
		 * As io-pgtable-arm: each leaf into the gather, which may
		 * flush what it held first; nothing when queued.
		 */
		if (!iommu_iotlb_gather_queued(gather))
			iommu_iotlb_gather_add_page(domain, gather,
						    iova + (i << MOCK_PAGE_SHIFT),
						    MOCK_PAGE_SIZE);
	}
	return i << MOCK_PAGE_SHIFT;
}

/* Is the page a mock PTE points at still pinned for DMA? */
static bool mock_pte_pinned(void *pte)
{
	unsigned long pfn = xa_to_value(pte) >> MOCK_PTE_PFN_SHIFT;

	return folio_maybe_dma_pinned(page_folio(pfn_to_page(pfn)));
}

/* Drop the cached entries of [first, last] (IOVA >> 12) */
static void mock_domain_invalidate(struct mock_domain *mock,
				   unsigned long first, unsigned long last)
{
	unsigned long index;
	void *pte;

	atomic64_inc(&mock->flushes);
	mutex_lock(&mock->lock);
	xa_for_each_range(&mock->iotlb, index, pte, first, last) {
		/* Reachable until now: it must not have been given back */
		if (!mock_pte_pinned(pte))
			atomic64_inc(&mock->late_unpins);
		xa_erase(&mock->iotlb, index);
	}
	mutex_unlock(&mock->lock);
}

/* As arm_smmu_iotlb_sync(): only what was gathered, if anything was */
static void mock_domain_iotlb_sync(struct iommu_domain *domain,
				   struct iommu_iotlb_gather *gather)
{
	if (!gather->pgsize)
		return;
	mock_domain_invalidate(to_mock_domain(domain),
			       gather->start >> MOCK_PAGE_SHIFT,
			       gather->end >> MOCK_PAGE_SHIFT);
}

static void mock_domain_flush_iotlb_all(struct iommu_domain *domain)
{
	mock_domain_invalidate(to_mock_domain(domain), 0, ULONG_MAX);
}

/* What a caching-mode VT-d turns into an invalidation: count it */
static int mock_domain_iotlb_sync_map(struct iommu_domain *domain,
				      unsigned long iova, size_t size)
{
	atomic64_inc(&to_mock_domain(domain)->map_syncs);
	return 0;
}

static phys_addr_t mock_domain_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova)
{
	struct mock_domain *mock = to_mock_domain(domain);
	void *pte = xa_load(&mock->pfns, iova >> MOCK_PAGE_SHIFT);

	if (!pte)
		return 0;
	return PFN_PHYS(xa_to_value(pte) >> MOCK_PTE_PFN_SHIFT) |
	       (iova & (MOCK_PAGE_SIZE - 1));
}

static const struct iommu_domain_ops mock_domain_ops = {
	.attach_dev = mock_domain_attach,
	.map_pages = mock_domain_map_pages,
	.unmap_pages = mock_domain_unmap_pages,
	.iotlb_sync = mock_domain_iotlb_sync,
	.iotlb_sync_map = mock_domain_iotlb_sync_map,
	.flush_iotlb_all = mock_domain_flush_iotlb_all,
	.iova_to_phys = mock_domain_iova_to_phys,
	.free = mock_domain_free,
};

/* Mock IOMMU A takes deferred flushes, as SMMUv3, VT-d and AMD do */
static bool mock_capable(struct device *dev, enum iommu_cap cap)
{
	struct mock_iommu *iommu = dev_to_mock_iommu(dev);

	return cap == IOMMU_CAP_DEFERRED_FLUSH && iommu &&
	       iommu->index == IOASID_MOCK_IOMMU_A;
}

static struct iommu_device *mock_probe_device(struct device *dev)
{
	struct mock_iommu *iommu = dev_to_mock_iommu(dev);

	return iommu ? &iommu->iommu : ERR_PTR(-ENODEV);
}

static void mock_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct mock_iommu *iommu = dev_to_mock_iommu(dev);
	struct iommu_resv_region *region;

	region = iommu_alloc_resv_region(iommu->resv_start,
					 iommu->resv_last - iommu->resv_start + 1,
					 0, IOMMU_RESV_MSI, GFP_KERNEL);
	if (region)
		list_add_tail(&region->list, head);
}

static const struct iommu_ops mock_ops = {
	/* The blocked domain doubles as the default: no DMA API on mocks */
	.default_domain = &mock_blocking_domain,
	.blocked_domain = &mock_blocking_domain,
	.owner = THIS_MODULE,
	.pgsize_bitmap = SZ_4K,
	.capable = mock_capable,
	.domain_alloc_paging = mock_domain_alloc_paging,
	.device_group = generic_device_group,
	.probe_device = mock_probe_device,
	.get_resv_regions = mock_get_resv_regions,
	.default_domain_ops = &mock_domain_ops,
};

/*
 * struct iofd_mock_device - a mock device bound to the context
 * @obj: the object header; the ID is what IOASID_TEST and DESTROY take
 * @pdev: the platform device the IOMMU core sees
 * @idev: its binding through the driver API
 */
struct iofd_mock_device {
	struct iofd_object obj;
	struct platform_device *pdev;
	struct iofd_device *idev;
};

/*
 * The I/O page table a mock device uses now. Detach, replace and the
 * freeing of domains all happen under ictx->lock, so the caller holds it
 * for as long as it uses the domain, as a device's translation would be
 * stable while it runs.
 */
static struct mock_domain *mock_domain_of(struct iofd_ctx *ictx,
					  struct iofd_mock_device *mdev)
{
	lockdep_assert_held(&ictx->lock);
	return to_mock_domain(iommu_get_domain_for_dev(&mdev->pdev->dev));
}

static struct iofd_mock_device *iofd_get_mock(struct iofd_ctx *ictx, u32 id)
{
	struct iofd_object *obj;

	obj = iofd_get_object(ictx, id, IOFD_OBJ_MOCK_DEVICE);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iofd_mock_device, obj);
}

/*
 * Give back a mock device the IOMMU core did not take (its probe failed,
 * or it was never added): what iommu_fwspec_init() allocated is then
 * ours to free, as the core frees it only when it releases a device it
 * probed.
 */
static void mock_pdev_destroy(struct platform_device *pdev, bool added)
{
	if (added)
		platform_device_del(pdev);
	mutex_lock(&iommu_probe_device_lock);
	if (!pdev->dev.iommu_group)
		iommu_fwspec_free(&pdev->dev);
	mutex_unlock(&iommu_probe_device_lock);
	platform_device_put(pdev);
}

static struct platform_device *mock_pdev_create(struct mock_iommu *iommu)
{
	struct platform_device *pdev;
	struct iommu_group *group;
	int rc;

	pdev = platform_device_alloc("iofd_mock", PLATFORM_DEVID_AUTO);
	if (!pdev)
		return ERR_PTR(-ENOMEM);
	/* How the IOMMU core will find the mock IOMMU for this device */
	mutex_lock(&iommu_probe_device_lock);
	rc = iommu_fwspec_init(&pdev->dev, &iommu->fwnode);
	mutex_unlock(&iommu_probe_device_lock);
	if (rc)
		goto err_destroy;
	rc = platform_device_add(pdev);
	if (rc)
		goto err_destroy;
	/* The IOMMU core probes it from the platform bus notifier */
	group = iommu_group_get(&pdev->dev);
	if (!group) {
		mock_pdev_destroy(pdev, true);
		return ERR_PTR(-ENODEV);
	}
	iommu_group_put(group);
	return pdev;

err_destroy:
	mock_pdev_destroy(pdev, false);
	return ERR_PTR(rc);
}

static int iofd_test_mock_device(struct iofd_ucmd *ucmd,
				 struct ioasid_test_cmd *cmd)
{
	struct iofd_mock_device *mock;
	int rc;

	if (cmd->mock_device.iommu >= IOASID_MOCK_NUM_IOMMUS)
		return -EINVAL;

	mock = iofd_object_alloc(ucmd->ictx, mock, IOFD_OBJ_MOCK_DEVICE);
	if (IS_ERR(mock))
		return PTR_ERR(mock);

	mock->pdev = mock_pdev_create(&mock_iommus[cmd->mock_device.iommu]);
	if (IS_ERR(mock->pdev)) {
		rc = PTR_ERR(mock->pdev);
		goto err_abort;
	}
	/* The context owns the mock: it must not hold the context alive */
	mock->idev = __iofd_device_bind(ucmd->ictx, &mock->pdev->dev, true);
	if (IS_ERR(mock->idev)) {
		rc = PTR_ERR(mock->idev);
		goto err_unregister;
	}

	cmd->mock_device.out_device_id = mock->obj.id;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_unbind;
	iofd_object_finalize(ucmd->ictx, &mock->obj);
	return 0;

err_unbind:
	iofd_device_unbind(mock->idev);
err_unregister:
	platform_device_unregister(mock->pdev);
err_abort:
	iofd_object_abort(ucmd->ictx, &mock->obj);
	return rc;
}

void iofd_selftest_destroy(struct iofd_object *obj)
{
	struct iofd_mock_device *mock =
		container_of(obj, struct iofd_mock_device, obj);

	/* The device goes away with the object */
	iofd_device_removed(mock->idev);
	iofd_device_unbind(mock->idev);
	platform_device_unregister(mock->pdev);
}

/* Check that every domain of the IOASID maps [iova, iova + length) to uptr */
static int iofd_test_check_map(struct iofd_ucmd *ucmd,
			       struct ioasid_test_cmd *cmd)
{
	unsigned long uptr = cmd->check_map.uptr;
	unsigned long iova = cmd->check_map.iova;
	unsigned long length = cmd->check_map.length;
	struct iofd_domain *idomain;
	struct iofd_ioasid *ioasid;
	unsigned long off;
	int rc = 0;

	if (!PAGE_ALIGNED(uptr) || !PAGE_ALIGNED(iova) ||
	    !PAGE_ALIGNED(length) || iova + length < iova)
		return -EINVAL;

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->id);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);

	down_read(&ioasid->iopt.domains_rwsem);
	for (off = 0; off != length && !rc; off += PAGE_SIZE) {
		struct page *page;

		if (get_user_pages_fast(uptr + off, 1, 0, &page) != 1) {
			rc = -EFAULT;
			break;
		}
		list_for_each_entry(idomain, &ioasid->iopt.domains, item) {
			if (iommu_iova_to_phys(idomain->domain, iova + off) !=
			    page_to_phys(page)) {
				rc = -EINVAL;
				break;
			}
		}
		put_page(page);
	}
	up_read(&ioasid->iopt.domains_rwsem);
	iofd_put_object(&ioasid->obj);
	return rc;
}

/* How many pages of a user range are pinned for DMA (by anyone) */
static int iofd_test_pinned(struct iofd_ucmd *ucmd, struct ioasid_test_cmd *cmd)
{
	unsigned long uptr = cmd->pinned.uptr, off;
	u64 pinned = 0;

	if (!PAGE_ALIGNED(uptr) || !PAGE_ALIGNED(cmd->pinned.length))
		return -EINVAL;
	for (off = 0; off < cmd->pinned.length; off += PAGE_SIZE) {
		struct page *page;

		/* A plain reference: it does not count as a pin */
		if (get_user_pages_fast(uptr + off, 1, 0, &page) != 1)
			return -EFAULT;
		if (folio_maybe_dma_pinned(page_folio(page)))
			pinned++;
		put_page(page);
	}
	cmd->pinned.out_pinned = pinned;
	return iofd_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * The mock's fault interrupt: held around every report, so that lockdep
 * checks the handler as in a hard IRQ that is never threaded, even on
 * PREEMPT_RT (VT-d's dmar_fault()): with CONFIG_PROVE_RAW_LOCK_NESTING a
 * spinlock_t taken under it is an invalid wait context.
 */
static DEFINE_RAW_SPINLOCK(mock_fault_irq);

/* What the mock tells report_iommu_fault(): it knows why it faulted */
static int mock_fault_flags(bool write, bool present)
{
	int flags = write ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ;

	if (present)
		return flags | IOMMU_FAULT_PERMISSION |
		       MOCK_FAULT_PERMISSION << IOMMU_FAULT_REASON_SHIFT;
	return flags | IOMMU_FAULT_NO_TRANSLATION |
	       MOCK_FAULT_NOT_PRESENT << IOMMU_FAULT_REASON_SHIFT;
}

/*
 * Report a DMA fault of @dev at @iova as an IOMMU's fault interrupt
 * would: in its interrupt, through the domain's fault handler.
 */
static void mock_report_fault(struct mock_domain *mock, struct device *dev,
			      unsigned long iova, bool write, bool present)
{
	unsigned long irqflags;

	raw_spin_lock_irqsave(&mock_fault_irq, irqflags);
	report_iommu_fault(&mock->domain, dev, iova & ~(MOCK_PAGE_SIZE - 1),
			   mock_fault_flags(write, present));
	raw_spin_unlock_irqrestore(&mock_fault_irq, irqflags);
}

/*
 * A device access through the I/O page table the mock device's group is
 * attached to now, its IOTLB first. A blocked group, a missing entry or a
 * missing permission is a DMA fault: -ENXIO, -ENXIO, -EPERM; the last two
 * are reported to the domain's fault handler. An access through a stale
 * IOTLB entry to a page no longer pinned is -ESTALE (and a late unpin):
 * hardware would have written memory given back.
 */
static int iofd_test_dma(struct iofd_ucmd *ucmd, struct ioasid_test_cmd *cmd)
{
	bool write = cmd->dma.flags & IOASID_TEST_DMA_WRITE;
	unsigned long iova = cmd->dma.iova, done = 0;
	unsigned long length = cmd->dma.length;
	struct iofd_mock_device *mdev;
	struct mock_domain *mock;
	unsigned long fault_iova = 0;
	u8 *buf;
	int rc = 0;

	if (cmd->dma.flags & ~IOASID_TEST_DMA_WRITE || cmd->dma.__reserved)
		return -EOPNOTSUPP;
	if (!length || length > SZ_1M || iova + length < iova)
		return -EINVAL;

	buf = kvzalloc(length, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (write && copy_from_user(buf, u64_to_user_ptr(cmd->dma.uptr),
				    length)) {
		rc = -EFAULT;
		goto out_free;
	}

	mdev = iofd_get_mock(ucmd->ictx, cmd->id);
	if (IS_ERR(mdev)) {
		rc = PTR_ERR(mdev);
		goto out_free;
	}

	mutex_lock(&ucmd->ictx->lock);
	mock = mock_domain_of(ucmd->ictx, mdev);
	if (!mock) {
		rc = -ENXIO;
		goto out_unlock;
	}
	mutex_lock(&mock->lock);
	while (done != length) {
		unsigned long cur = iova + done;
		unsigned long offset = cur & (MOCK_PAGE_SIZE - 1);
		unsigned long n = min(length - done, MOCK_PAGE_SIZE - offset);
		void *pte = xa_load(&mock->iotlb, cur >> MOCK_PAGE_SHIFT);
		unsigned long pfn;
		void *kaddr;

		if (pte && !mock_pte_pinned(pte)) {
			atomic64_inc(&mock->late_unpins);
			rc = -ESTALE;
			break;
		}
		if (!pte)
			pte = xa_load(&mock->pfns, cur >> MOCK_PAGE_SHIFT);
		if (!pte) {
			rc = -ENXIO;
			fault_iova = cur;
			break;
		}
		if (!(xa_to_value(pte) & (write ? IOMMU_WRITE : IOMMU_READ))) {
			rc = -EPERM;
			fault_iova = cur;
			break;
		}
		pfn = xa_to_value(pte) >> MOCK_PTE_PFN_SHIFT;
		kaddr = kmap_local_pfn(pfn);
		if (write)
			memcpy(kaddr + offset, buf + done, n);
		else
			memcpy(buf + done, kaddr + offset, n);
		kunmap_local(kaddr);
		done += n;
	}
	mutex_unlock(&mock->lock);
	if (rc == -ENXIO || rc == -EPERM)
		mock_report_fault(mock, &mdev->pdev->dev, fault_iova, write,
				  rc == -EPERM);
out_unlock:
	mutex_unlock(&ucmd->ictx->lock);
	iofd_put_object(&mdev->obj);
	if (!rc && !write &&
	    copy_to_user(u64_to_user_ptr(cmd->dma.uptr), buf, length))
		rc = -EFAULT;
out_free:
	kvfree(buf);
	return rc;
}

static u64 mock_stat(atomic64_t *stat, bool reset)
{
	return reset ? atomic64_xchg(stat, 0) : atomic64_read(stat);
}

static int iofd_test_domain_stats(struct iofd_ucmd *ucmd,
				  struct ioasid_test_cmd *cmd)
{
	bool reset = cmd->domain_stats.flags & IOASID_TEST_STATS_RESET;
	struct iofd_mock_device *mdev;
	struct mock_domain *mock;
	int rc;

	if (cmd->domain_stats.flags & ~IOASID_TEST_STATS_RESET ||
	    cmd->domain_stats.__reserved)
		return -EOPNOTSUPP;

	mdev = iofd_get_mock(ucmd->ictx, cmd->id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	mutex_lock(&ucmd->ictx->lock);
	mock = mock_domain_of(ucmd->ictx, mdev);
	if (!mock) {
		mutex_unlock(&ucmd->ictx->lock);
		rc = -ENOENT;
		goto out_put;
	}
	cmd->domain_stats.out_maps = mock_stat(&mock->maps, reset);
	cmd->domain_stats.out_unmaps = mock_stat(&mock->unmaps, reset);
	cmd->domain_stats.out_flushes = mock_stat(&mock->flushes, reset);
	cmd->domain_stats.out_late_unpins = mock_stat(&mock->late_unpins, reset);
	cmd->domain_stats.out_huge_maps = mock_stat(&mock->huge_maps, reset);
	cmd->domain_stats.out_map_syncs = mock_stat(&mock->map_syncs, reset);
	mutex_unlock(&ucmd->ictx->lock);
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iofd_put_object(&mdev->obj);
	return rc;
}

static int iofd_test_ioasid_stats(struct iofd_ucmd *ucmd,
				  struct ioasid_test_cmd *cmd)
{
	struct iofd_domain *idomain;
	struct iofd_ioasid *ioasid;
	u64 domains = 0;

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->id);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);
	down_read(&ioasid->iopt.domains_rwsem);
	list_for_each_entry(idomain, &ioasid->iopt.domains, item)
		domains++;
	down_read(&ioasid->iopt.iova_rwsem);
	cmd->ioasid_stats.out_domains = domains;
	cmd->ioasid_stats.out_mappings = ioasid->iopt.nr_areas;
	cmd->ioasid_stats.out_pinned = ioasid->iopt.nr_pinned;
	up_read(&ioasid->iopt.iova_rwsem);
	up_read(&ioasid->iopt.domains_rwsem);
	iofd_put_object(&ioasid->obj);
	return iofd_ucmd_respond(ucmd, sizeof(*cmd));
}

static int iofd_test_memlock(struct iofd_ucmd *ucmd,
			     struct ioasid_test_cmd *cmd)
{
	if (cmd->memlock.flags & ~IOASID_TEST_MEMLOCK_SET ||
	    cmd->memlock.__reserved)
		return -EOPNOTSUPP;
	/*
	 * Lower is for anyone; above what the caller could pin anyway only
	 * for who may lock memory without limit.
	 */
	if ((cmd->memlock.flags & IOASID_TEST_MEMLOCK_SET) &&
	    cmd->memlock.pages > rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT &&
	    !capable(CAP_IPC_LOCK))
		return -EPERM;
	if (cmd->memlock.flags & IOASID_TEST_MEMLOCK_SET)
		WRITE_ONCE(ucmd->ictx->test_memlock_pages, cmd->memlock.pages);
	cmd->memlock.out_locked = atomic_long_read(&current_user()->locked_vm);
	return iofd_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * A fault an IOMMU driver has read its domain's handler and token for
 * and not reported yet. AMD's fault thread reads them with no lock and
 * no RCU, and may be preempted right after while the domain's owner
 * detaches, destroys and closes everything. One at a time in the whole
 * module, so that it can outlive the fd that made it; a new one replaces
 * it. The domain and the device are only passed on: they may be gone.
 */
static struct {
	struct mutex lock;	/* the fields below */
	iommu_fault_handler_t handler;
	void *token;
	struct iommu_domain *domain;
	struct device *dev;
	unsigned long iova;
	int flags;
} mock_held_fault = { .lock = __MUTEX_INITIALIZER(mock_held_fault.lock) };

static void mock_hold_fault(struct mock_domain *mock, struct device *dev,
			    unsigned long iova, int flags)
{
	mutex_lock(&mock_held_fault.lock);
	mock_held_fault.handler = mock->domain.handler;
	mock_held_fault.token = mock->domain.handler_token;
	mock_held_fault.domain = &mock->domain;
	mock_held_fault.dev = dev;
	mock_held_fault.iova = iova;
	mock_held_fault.flags = flags;
	mutex_unlock(&mock_held_fault.lock);
}

/* Report the held fault now, from a thread, with no lock and no RCU */
static int mock_let_go_fault(void)
{
	iommu_fault_handler_t handler;
	struct iommu_domain *domain;
	struct device *dev;
	unsigned long iova;
	void *token;
	int flags;

	mutex_lock(&mock_held_fault.lock);
	handler = mock_held_fault.handler;
	token = mock_held_fault.token;
	domain = mock_held_fault.domain;
	dev = mock_held_fault.dev;
	iova = mock_held_fault.iova;
	flags = mock_held_fault.flags;
	mock_held_fault.handler = NULL;
	mutex_unlock(&mock_held_fault.lock);
	if (!handler)
		return -ENOENT;
	handler(domain, dev, iova, flags, token);
	return 0;
}

/*
 * Many faults, fast: for the event queues' overflow and throughput
 * tests. Interrupts go off a batch at a time, as a fault interrupt
 * that drains the IOMMU's fault records would, not for the whole run.
 */
static int iofd_test_inject_faults(struct iofd_ucmd *ucmd,
				   struct ioasid_test_cmd *cmd)
{
	bool write = cmd->inject.flags & IOASID_TEST_INJECT_WRITE;
	unsigned long iova = cmd->inject.iova;
	struct iofd_mock_device *mdev;
	struct mock_domain *mock;
	u32 done = 0;
	int rc = 0;

	if (cmd->inject.flags & ~(IOASID_TEST_INJECT_WRITE |
				  IOASID_TEST_INJECT_HOLD |
				  IOASID_TEST_INJECT_LET_GO) ||
	    cmd->inject.__reserved)
		return -EOPNOTSUPP;
	if (cmd->inject.flags & IOASID_TEST_INJECT_LET_GO) {
		if (cmd->inject.flags != IOASID_TEST_INJECT_LET_GO)
			return -EINVAL;
		return mock_let_go_fault();
	}
	if (!cmd->inject.count || cmd->inject.count > IOASID_TEST_MAX_INJECT ||
	    (cmd->inject.flags & IOASID_TEST_INJECT_HOLD &&
	     cmd->inject.count != 1))
		return -EINVAL;

	mdev = iofd_get_mock(ucmd->ictx, cmd->id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	/* Attached or parked: a mock paging domain with our handler */
	mutex_lock(&ucmd->ictx->lock);
	mock = mock_domain_of(ucmd->ictx, mdev);
	if (!mock) {
		rc = -ENOENT;
		goto out_unlock;
	}
	if (cmd->inject.flags & IOASID_TEST_INJECT_HOLD) {
		bool present = xa_load(&mock->pfns, iova >> MOCK_PAGE_SHIFT);

		mock_hold_fault(mock, &mdev->pdev->dev, iova,
				mock_fault_flags(write, present));
		goto out_unlock;
	}
	while (done != cmd->inject.count) {
		u32 batch = min(cmd->inject.count - done, 256U);
		unsigned long irqflags;

		raw_spin_lock_irqsave(&mock_fault_irq, irqflags);
		for (; batch; batch--, done++) {
			unsigned long cur = iova + (unsigned long)done *
						   MOCK_PAGE_SIZE;
			bool present = xa_load(&mock->pfns,
					       cur >> MOCK_PAGE_SHIFT);

			report_iommu_fault(&mock->domain, &mdev->pdev->dev,
					   cur, mock_fault_flags(write, present));
		}
		raw_spin_unlock_irqrestore(&mock_fault_irq, irqflags);
		cond_resched();
	}
out_unlock:
	mutex_unlock(&ucmd->ictx->lock);
	iofd_put_object(&mdev->obj);
	return rc;
}

/* Hold back IOASID_UNMAP_ASYNC completions; letting go completes them */
static int iofd_test_async_hold(struct iofd_ucmd *ucmd,
				struct ioasid_test_cmd *cmd)
{
	struct iofd_ctx *ictx = ucmd->ictx;
	struct iofd_object *obj;
	unsigned long index;

	if (cmd->async_hold.flags & ~IOASID_TEST_ASYNC_HOLD ||
	    cmd->async_hold.__reserved)
		return -EOPNOTSUPP;
	WRITE_ONCE(ictx->test_async_hold,
		   cmd->async_hold.flags & IOASID_TEST_ASYNC_HOLD);
	if (ictx->test_async_hold)
		return 0;

	xa_for_each(&ictx->objects, index, obj) {
		struct iofd_ioasid *ioasid;

		ioasid = iofd_get_ioasid(ictx, index);
		if (IS_ERR(ioasid))
			continue;
		iofd_ioasid_complete_async(ioasid);
		iofd_put_object(&ioasid->obj);
	}
	return 0;
}

/* A long call on an object, for the tests of what waits for one */
static int iofd_test_busy(struct iofd_ucmd *ucmd, struct ioasid_test_cmd *cmd)
{
	struct iofd_object *obj;
	unsigned long left;

	obj = iofd_get_object(ucmd->ictx, cmd->id, IOFD_OBJ_ANY);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	left = msleep_interruptible(60 * MSEC_PER_SEC);
	iofd_put_object(obj);
	return left ? -EINTR : -ETIMEDOUT;
}

/* Jump ahead in the fd's ID space; IDs still only grow */
static int iofd_test_skip_ids(struct iofd_ucmd *ucmd,
			      struct ioasid_test_cmd *cmd)
{
	struct iofd_ctx *ictx = ucmd->ictx;

	if (cmd->skip_ids.__reserved)
		return -EOPNOTSUPP;
	if (cmd->skip_ids.next > (u32)INT_MAX + 1)
		return -EINVAL;
	xa_lock(&ictx->objects);
	ictx->next_id = max(ictx->next_id, cmd->skip_ids.next);
	xa_unlock(&ictx->objects);
	return 0;
}

int iofd_test(struct iofd_ucmd *ucmd)
{
	struct ioasid_test_cmd *cmd = ucmd->cmd;
	struct iofd_mock_device *mdev;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOASID_TEST_OP_MOCK_DEVICE:
		return iofd_test_mock_device(ucmd, cmd);
	case IOASID_TEST_OP_ATTACH:
		if (cmd->attach.__reserved)
			return -EOPNOTSUPP;
		mdev = iofd_get_mock(ucmd->ictx, cmd->id);
		if (IS_ERR(mdev))
			return PTR_ERR(mdev);
		rc = iofd_device_attach(mdev->idev, cmd->attach.ioasid,
					cmd->attach.label, NULL);
		iofd_put_object(&mdev->obj);
		return rc;
	case IOASID_TEST_OP_DETACH:
		mdev = iofd_get_mock(ucmd->ictx, cmd->id);
		if (IS_ERR(mdev))
			return PTR_ERR(mdev);
		rc = iofd_device_detach(mdev->idev);
		iofd_put_object(&mdev->obj);
		return rc;
	case IOASID_TEST_OP_CHECK_MAP:
		return iofd_test_check_map(ucmd, cmd);
	case IOASID_TEST_OP_PINNED:
		return iofd_test_pinned(ucmd, cmd);
	case IOASID_TEST_OP_DMA:
		return iofd_test_dma(ucmd, cmd);
	case IOASID_TEST_OP_DOMAIN_STATS:
		return iofd_test_domain_stats(ucmd, cmd);
	case IOASID_TEST_OP_IOASID_STATS:
		return iofd_test_ioasid_stats(ucmd, cmd);
	case IOASID_TEST_OP_MEMLOCK:
		return iofd_test_memlock(ucmd, cmd);
	case IOASID_TEST_OP_INJECT_FAULTS:
		return iofd_test_inject_faults(ucmd, cmd);
	case IOASID_TEST_OP_ASYNC_HOLD:
		return iofd_test_async_hold(ucmd, cmd);
	case IOASID_TEST_OP_BUSY:
		return iofd_test_busy(ucmd, cmd);
	case IOASID_TEST_OP_SKIP_IDS:
		return iofd_test_skip_ids(ucmd, cmd);
	default:
		return -EOPNOTSUPP;
	}
}

int __init iofd_test_init(void)
{
	unsigned int i;
	int rc;

	iofd_fail_dentry = fault_create_debugfs_attr("fail_ioasid_fd", NULL,
						     &iofd_fail_attr);
	for (i = 0; i != ARRAY_SIZE(mock_iommus); i++) {
		struct mock_iommu *iommu = &mock_iommus[i];

		fwnode_init(&iommu->fwnode, NULL);
		rc = iommu_device_sysfs_add(&iommu->iommu, NULL, NULL,
					    "iofd_mock%u", i);
		if (rc)
			goto err_unregister;
		iommu->iommu.fwnode = &iommu->fwnode;
		rc = iommu_device_register(&iommu->iommu, &mock_ops, NULL);
		if (rc) {
			iommu_device_sysfs_remove(&iommu->iommu);
			goto err_unregister;
		}
	}
	return 0;

err_unregister:
	while (i--) {
		iommu_device_unregister(&mock_iommus[i].iommu);
		iommu_device_sysfs_remove(&mock_iommus[i].iommu);
	}
	debugfs_remove_recursive(iofd_fail_dentry);
	return rc;
}

void iofd_test_exit(void)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(mock_iommus); i++) {
		iommu_device_unregister(&mock_iommus[i].iommu);
		iommu_device_sysfs_remove(&mock_iommus[i].iommu);
	}
	debugfs_remove_recursive(iofd_fail_dentry);
}
