// SPDX-License-Identifier: GPL-2.0-only
/*
 * The IOASID ioctls: parse and check the user's structure, call the IOVA
 * space (io_pagetable.c), copy the answer back, and report what changed
 * to the event queues once it is true (after the flush). Nothing here
 * knows how mappings are stored.
 */
#include <linux/capability.h>
#include <linux/iommu.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <uapi/linux/ioasid_fd.h>

#include "iofd_private.h"

/**
 * iofd_ioasid_complete_async - finish the IOASID's asynchronous unmaps
 * @ioasid: the IOASID
 *
 * Flush and unpin everything IOASID_UNMAP_ASYNC left pending, then
 * report each call's completion. Process context.
 */
void iofd_ioasid_complete_async(struct iofd_ioasid *ioasid)
{
	struct iofd_unmap_req *req, *next;
	LIST_HEAD(done);

	iopt_complete_async(&ioasid->iopt, &done);
	list_for_each_entry_safe(req, next, &done, item) {
		iofd_report_inval(ioasid->ictx, ioasid->obj.id, 0, req->iova,
				  req->last, IOASID_INVAL_ASYNC_UNMAP,
				  req->cookie);
		kfree(req);
	}
}

static void iofd_ioasid_async_work(struct work_struct *work)
{
	iofd_ioasid_complete_async(container_of(work, struct iofd_ioasid,
						async_work));
}

void iofd_ioasid_destroy(struct iofd_object *obj)
{
	struct iofd_ioasid *ioasid = container_of(obj, struct iofd_ioasid, obj);

	/* Nothing can queue the work now: no call holds the IOASID */
	flush_work(&ioasid->async_work);
	iofd_ioasid_complete_async(ioasid);
	iopt_destroy(&ioasid->iopt);
	iofd_report_inval(ioasid->ictx, ioasid->obj.id, 0, 0, U64_MAX,
			  IOASID_INVAL_IOASID_DESTROYED, 0);
}

int iofd_ioasid_alloc_ioctl(struct iofd_ucmd *ucmd)
{
	struct ioasid_alloc *cmd = ucmd->cmd;
	struct iofd_ioasid *ioasid;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;

	ioasid = iofd_object_alloc(ucmd->ictx, ioasid, IOFD_OBJ_IOASID);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);
	ioasid->ictx = ucmd->ictx;
	iopt_init(&ioasid->iopt);
	INIT_WORK(&ioasid->async_work, iofd_ioasid_async_work);

	cmd->out_ioasid = ioasid->obj.id;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iofd_object_abort(ucmd->ictx, &ioasid->obj);
		return rc;
	}
	iofd_object_finalize(ucmd->ictx, &ioasid->obj);
	return 0;
}

struct iova_ranges_fill {
	struct ioasid_iova_range __user *ranges;
	u32 capacity;
	u32 total;
};

static int iova_ranges_fill_one(unsigned long start, unsigned long last,
				void *arg)
{
	struct iova_ranges_fill *fill = arg;
	struct ioasid_iova_range range = { .start = start, .last = last };

	if (fill->total < fill->capacity &&
	    copy_to_user(&fill->ranges[fill->total], &range, sizeof(range)))
		return -EFAULT;
	fill->total++;
	return 0;
}

int iofd_ioasid_iova_ranges(struct iofd_ucmd *ucmd)
{
	struct ioasid_iova_ranges *cmd = ucmd->cmd;
	struct iova_ranges_fill fill;
	struct iofd_ioasid *ioasid;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->ioasid);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);

	fill = (struct iova_ranges_fill){
		.ranges = u64_to_user_ptr(cmd->ranges),
		.capacity = cmd->num_ranges,
	};
	rc = iopt_iova_ranges(&ioasid->iopt, iova_ranges_fill_one, &fill);
	if (rc)
		goto out_put;

	cmd->num_ranges = fill.total;
	/* Every domain can map a CPU page: attach refuses those that cannot */
	cmd->out_iova_alignment = PAGE_SIZE;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc && fill.total > fill.capacity)
		rc = -EMSGSIZE;
out_put:
	iofd_put_object(&ioasid->obj);
	return rc;
}

/*
 * Who pays for a MAP: the caller's user, up to RLIMIT_MEMLOCK unless it
 * has CAP_IPC_LOCK. The selftests can impose a limit on the fd instead,
 * which CAP_IPC_LOCK does not lift, so that root can test the limit.
 */
static void iofd_acct_current(struct iofd_ctx *ictx, struct iofd_acct *acct)
{
	acct->user = current_user();
	if (IS_ENABLED(CONFIG_IOASID_FD_TEST) && ictx->test_memlock_pages)
		acct->limit = READ_ONCE(ictx->test_memlock_pages);
	else if (capable(CAP_IPC_LOCK))
		acct->limit = ULONG_MAX;
	else
		acct->limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
}

int iofd_ioasid_map(struct iofd_ucmd *ucmd)
{
	const u32 known = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ |
			  IOASID_MAP_WRITE;
	struct ioasid_map *cmd = ucmd->cmd;
	struct iofd_ioasid *ioasid;
	struct iofd_acct acct;
	unsigned long iova, end;
	int prot = 0;
	int rc;

	if ((cmd->flags & ~known) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_MAP_READ)
		prot |= IOMMU_READ;
	if (cmd->flags & IOASID_MAP_WRITE)
		prot |= IOMMU_WRITE;
	if (!prot || !cmd->length)
		return -EINVAL;
	if (!PAGE_ALIGNED(cmd->user_va) || !PAGE_ALIGNED(cmd->length) ||
	    ((cmd->flags & IOASID_MAP_FIXED_IOVA) && !PAGE_ALIGNED(cmd->iova)))
		return -EINVAL;
	/*
	 * Cacheable, as VFIO requires of every device it registers (it
	 * refuses those whose IOMMU cannot make DMA coherent).
	 */
	prot |= IOMMU_CACHE;
	/* The IOVA space and the user VA are unsigned long wide */
	if (cmd->length > ULONG_MAX || cmd->iova > ULONG_MAX ||
	    check_add_overflow(cmd->user_va, cmd->length, &end))
		return -EOVERFLOW;

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->ioasid);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);

	iofd_acct_current(ucmd->ictx, &acct);
	iova = cmd->iova;
	rc = iopt_map_user(&ioasid->iopt, &iova, cmd->user_va, cmd->length,
			   prot, cmd->flags & IOASID_MAP_FIXED_IOVA, &acct);
	if (rc == -EAGAIN) {
		/* An asynchronous unmap of the range is not flushed yet */
		iofd_ioasid_complete_async(ioasid);
		iova = cmd->iova;
		rc = iopt_map_user(&ioasid->iopt, &iova, cmd->user_va,
				   cmd->length, prot,
				   cmd->flags & IOASID_MAP_FIXED_IOVA, &acct);
		/* Another one came in meanwhile */
		if (rc == -EAGAIN)
			rc = -EBUSY;
	}
	if (rc)
		goto out_put;

	cmd->iova = iova;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		/* Userspace cannot learn the IOVA: take the mapping back */
		unsigned long unmapped;

		iopt_unmap(&ioasid->iopt, iova, iova + cmd->length - 1,
			   &unmapped);
	}
out_put:
	iofd_put_object(&ioasid->obj);
	return rc;
}

static int iofd_ioasid_unmap_async(struct iofd_ioasid *ioasid,
				   unsigned long iova, unsigned long last,
				   u64 cookie, unsigned long *unmapped)
{
	struct iofd_unmap_req *req;
	int rc;

	req = kzalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	if (!req)
		return -ENOMEM;
	req->iova = iova;
	req->last = last;
	req->cookie = cookie;
	rc = iopt_unmap_async(&ioasid->iopt, req, unmapped);
	if (rc) {
		kfree(req);
		return rc;
	}
	/* Queued again only once it ran: what is pending meanwhile joins */
	if (!IS_ENABLED(CONFIG_IOASID_FD_TEST) ||
	    !READ_ONCE(ioasid->ictx->test_async_hold))
		queue_work(system_unbound_wq, &ioasid->async_work);
	return 0;
}

int iofd_ioasid_unmap(struct iofd_ucmd *ucmd)
{
	const u32 known = IOASID_UNMAP_ALL | IOASID_UNMAP_ASYNC;
	struct ioasid_unmap *cmd = ucmd->cmd;
	struct iofd_ioasid *ioasid;
	unsigned long iova, last, unmapped;
	int rc;

	if ((cmd->flags & ~known) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->cookie && !(cmd->flags & IOASID_UNMAP_ASYNC))
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_UNMAP_ALL) {
		if (cmd->iova || cmd->length)
			return -EINVAL;
		iova = 0;
		last = ULONG_MAX;
	} else {
		if (!cmd->length || !PAGE_ALIGNED(cmd->iova) ||
		    !PAGE_ALIGNED(cmd->length))
			return -EINVAL;
		if (cmd->iova > ULONG_MAX ||
		    check_add_overflow((unsigned long)cmd->iova,
				       (unsigned long)(cmd->length - 1), &last) ||
		    cmd->length > ULONG_MAX)
			return -EOVERFLOW;
		iova = cmd->iova;
	}

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->ioasid);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);

	if (cmd->flags & IOASID_UNMAP_ASYNC) {
		rc = iofd_ioasid_unmap_async(ioasid, iova, last, cmd->cookie,
					     &unmapped);
	} else {
		rc = iopt_unmap(&ioasid->iopt, iova, last, &unmapped);
		if (!rc)
			iofd_report_inval(ucmd->ictx, ioasid->obj.id, 0, iova,
					  last, IOASID_INVAL_UNMAP, 0);
	}
	/* Emptying an empty IOASID is not an error */
	if (rc == -ENOENT && (cmd->flags & IOASID_UNMAP_ALL)) {
		unmapped = 0;
		rc = 0;
	}
	if (rc)
		goto out_put;

	cmd->out_length = unmapped;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iofd_put_object(&ioasid->obj);
	return rc;
}
