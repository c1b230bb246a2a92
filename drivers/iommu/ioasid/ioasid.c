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
 * report each call's completion. When this returns, every asynchronous
 * unmap pending when it was called is flushed, unpinned and reported,
 * also one that another caller (the work item) had started. Process
 * context.
 */
void iofd_ioasid_complete_async(struct iofd_ioasid *ioasid)
{
	struct iofd_unmap_req *req, *next;
	LIST_HEAD(done);

	mutex_lock(&ioasid->async_lock);
	iopt_complete_async(&ioasid->iopt, &done);
	list_for_each_entry_safe(req, next, &done, item) {
		iofd_report_inval(ioasid->ictx, ioasid->obj.id, 0, req->iova,
				  req->last, req->cause, req->cookie);
		kfree(req);
	}
	mutex_unlock(&ioasid->async_lock);
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
	mutex_init(&ioasid->async_lock);

	cmd->out_ioasid = ioasid->obj.id;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iofd_object_abort(ucmd->ictx, &ioasid->obj);
		return rc;
	}
	iofd_object_finalize(ucmd->ictx, &ioasid->obj);
	return 0;
}

/*
 * The ranges are gathered into a kernel buffer under the IOVA locks and
 * copied out after: a user page that faults slowly (userfaultfd) must
 * not hold locks that attach and detach, and so VFIO's close, wait for.
 */
struct iova_ranges_fill {
	struct ioasid_iova_range *ranges;
	u32 capacity;
	u32 total;
};

/* No IOMMU reserves that many regions: a bound on what we allocate */
#define IOFD_MAX_RANGES 4096

static int iova_ranges_fill_one(unsigned long start, unsigned long last,
				void *arg)
{
	struct iova_ranges_fill *fill = arg;

	if (fill->total < fill->capacity)
		fill->ranges[fill->total] = (struct ioasid_iova_range){
			.start = start,
			.last = last,
		};
	fill->total++;
	return 0;
}

int iofd_ioasid_iova_ranges(struct iofd_ucmd *ucmd)
{
	struct ioasid_iova_ranges *cmd = ucmd->cmd;
	struct iova_ranges_fill fill = {};
	struct iofd_ioasid *ioasid;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	fill.capacity = min_t(u32, cmd->num_ranges, IOFD_MAX_RANGES);
	if (fill.capacity) {
		fill.ranges = kvcalloc(fill.capacity, sizeof(*fill.ranges),
				       GFP_KERNEL_ACCOUNT);
		if (!fill.ranges)
			return -ENOMEM;
	}

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->ioasid);
	if (IS_ERR(ioasid)) {
		rc = PTR_ERR(ioasid);
		goto out_free;
	}
	rc = iopt_iova_ranges(&ioasid->iopt, iova_ranges_fill_one, &fill);
	iofd_put_object(&ioasid->obj);
	if (rc)
		goto out_free;

	/* No lock held now */
	if (fill.capacity &&
	    copy_to_user(u64_to_user_ptr(cmd->ranges), fill.ranges,
			 min(fill.total, fill.capacity) *
			 sizeof(*fill.ranges))) {
		rc = -EFAULT;
		goto out_free;
	}
	cmd->num_ranges = fill.total;
	/* Every domain can map a CPU page: attach refuses those that cannot */
	cmd->out_iova_alignment = PAGE_SIZE;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc && fill.total > fill.capacity)
		rc = -EMSGSIZE;
out_free:
	kvfree(fill.ranges);
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

/*
 * Check a MAP's arguments, as IOASID_MAP and IOASID_BATCH take them.
 * Return: the IOMMU_* prot to map with, or an errno.
 */
static int iofd_map_prot(u32 flags, u64 user_va, u64 length, u64 iova)
{
	const u32 known = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ |
			  IOASID_MAP_WRITE;
	unsigned long end;
	int prot = 0;

	if (flags & ~known)
		return -EOPNOTSUPP;
	if (flags & IOASID_MAP_READ)
		prot |= IOMMU_READ;
	if (flags & IOASID_MAP_WRITE)
		prot |= IOMMU_WRITE;
	if (!prot || !length)
		return -EINVAL;
	if (!PAGE_ALIGNED(user_va) || !PAGE_ALIGNED(length) ||
	    ((flags & IOASID_MAP_FIXED_IOVA) && !PAGE_ALIGNED(iova)))
		return -EINVAL;
	/* The IOVA space and the user VA are unsigned long wide */
	if (length > ULONG_MAX || iova > ULONG_MAX ||
	    check_add_overflow(user_va, length, &end))
		return -EOVERFLOW;
	/*
	 * Cacheable, as VFIO requires of every device it registers (it
	 * refuses those whose IOMMU cannot make DMA coherent).
	 */
	return prot | IOMMU_CACHE;
}

/* Map, after completing an asynchronous unmap that is in the way */
static int iofd_ioasid_do_map(struct iofd_ioasid *ioasid, u32 flags,
			      u64 user_va, u64 length, u64 *iova, int prot,
			      unsigned int iopt_flags, u64 *seq)
{
	struct iofd_acct acct;
	unsigned long it;
	int rc;

	if (flags & IOASID_MAP_FIXED_IOVA)
		iopt_flags |= IOPT_MAP_FIXED_IOVA;
	iofd_acct_current(ioasid->ictx, &acct);
	it = *iova;
	rc = iopt_map_user(&ioasid->iopt, &it, user_va, length, prot,
			   iopt_flags, &acct, seq);
	if (rc == -EAGAIN) {
		/* An unmap of the range is not flushed yet: flush it now */
		iofd_ioasid_complete_async(ioasid);
		it = *iova;
		rc = iopt_map_user(&ioasid->iopt, &it, user_va, length, prot,
				   iopt_flags, &acct, seq);
		/* Another one came in meanwhile */
		if (rc == -EAGAIN)
			rc = -EBUSY;
	}
	if (!rc)
		*iova = it;
	return rc;
}

int iofd_ioasid_map(struct iofd_ucmd *ucmd)
{
	struct ioasid_map *cmd = ucmd->cmd;
	struct iofd_ioasid *ioasid;
	int prot, rc;
	u64 seq;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	prot = iofd_map_prot(cmd->flags, cmd->user_va, cmd->length, cmd->iova);
	if (prot < 0)
		return prot;

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->ioasid);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);

	rc = iofd_ioasid_do_map(ioasid, cmd->flags, cmd->user_va, cmd->length,
				&cmd->iova, prot, 0, &seq);
	if (rc)
		goto out_put;

	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		/* Userspace cannot learn the IOVA: take this mapping back */
		iopt_unmap_seq(&ioasid->iopt, cmd->iova,
			       cmd->iova + cmd->length - 1, seq);
out_put:
	iofd_put_object(&ioasid->obj);
	return rc;
}

/*
 * Take [iova, last] out of the IOASID and leave the flush pending: for
 * IOASID_UNMAP_ASYNC (its work item completes it) and for a batch's
 * UNMAPs (the batch completes them at its end).
 */
static int iofd_ioasid_unmap_later(struct iofd_ioasid *ioasid,
				   unsigned long iova, unsigned long last,
				   u32 cause, u64 cookie, bool report_empty,
				   unsigned long *unmapped)
{
	struct iofd_unmap_req *req;
	int rc;

	req = kzalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	if (!req)
		return -ENOMEM;
	req->iova = iova;
	req->last = last;
	req->cause = cause;
	req->cookie = cookie;
	rc = iopt_unmap_async(&ioasid->iopt, req, report_empty, unmapped);
	if (rc)
		kfree(req);
	return rc;
}

/*
 * Check an UNMAP's range, as IOASID_UNMAP and IOASID_BATCH take it, into
 * [*start, *last].
 */
static int iofd_unmap_range(u32 flags, u64 iova, u64 length,
			    unsigned long *start, unsigned long *last)
{
	if (flags & IOASID_UNMAP_ALL) {
		if (iova || length)
			return -EINVAL;
		*start = 0;
		*last = ULONG_MAX;
		return 0;
	}
	if (!length || !PAGE_ALIGNED(iova) || !PAGE_ALIGNED(length))
		return -EINVAL;
	if (iova > ULONG_MAX || length > ULONG_MAX ||
	    check_add_overflow((unsigned long)iova,
			       (unsigned long)(length - 1), last))
		return -EOVERFLOW;
	*start = iova;
	return 0;
}

/* IOASID_UNMAP_COMPLETE_ASYNC: what is pending, done when we return */
static int iofd_ioasid_complete_ioctl(struct iofd_ucmd *ucmd)
{
	struct ioasid_unmap *cmd = ucmd->cmd;
	struct iofd_ioasid *ioasid;

	if (cmd->flags != IOASID_UNMAP_COMPLETE_ASYNC || cmd->iova ||
	    cmd->length || cmd->cookie)
		return -EINVAL;
	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->ioasid);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);
	iofd_ioasid_complete_async(ioasid);
	iofd_put_object(&ioasid->obj);
	cmd->out_length = 0;
	return iofd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iofd_ioasid_unmap(struct iofd_ucmd *ucmd)
{
	const u32 known = IOASID_UNMAP_ALL | IOASID_UNMAP_ASYNC |
			  IOASID_UNMAP_COMPLETE_ASYNC;
	struct ioasid_unmap *cmd = ucmd->cmd;
	struct iofd_ioasid *ioasid;
	unsigned long iova, last, unmapped;
	int rc;

	if ((cmd->flags & ~known) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_UNMAP_COMPLETE_ASYNC)
		return iofd_ioasid_complete_ioctl(ucmd);
	if (cmd->cookie && !(cmd->flags & IOASID_UNMAP_ASYNC))
		return -EOPNOTSUPP;
	rc = iofd_unmap_range(cmd->flags, cmd->iova, cmd->length, &iova,
			      &last);
	if (rc)
		return rc;

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->ioasid);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);

	/*
	 * A reply that cannot be written fails the call before it changes
	 * anything; the one after the unmap can only fail if the caller's
	 * memory changed meanwhile.
	 */
	cmd->out_length = 0;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_put;

	if (cmd->flags & IOASID_UNMAP_ASYNC) {
		/* An empty UNMAP_ALL still owes the caller its cookie */
		rc = iofd_ioasid_unmap_later(ioasid, iova, last,
					     IOASID_INVAL_ASYNC_UNMAP,
					     cmd->cookie,
					     cmd->flags & IOASID_UNMAP_ALL,
					     &unmapped);
		/* Queued again only once it ran: what is pending joins */
		if (!rc && (!IS_ENABLED(CONFIG_IOASID_FD_TEST) ||
			    !READ_ONCE(ioasid->ictx->test_async_hold)))
			queue_work(system_unbound_wq, &ioasid->async_work);
	} else {
		/*
		 * When this returns, nothing in the range may be reachable,
		 * including what an UNMAP_ASYNC took out and left unflushed:
		 * complete that first (its record comes first) and retry.
		 */
		rc = iopt_unmap(&ioasid->iopt, iova, last, &unmapped);
		if (rc == -EAGAIN) {
			iofd_ioasid_complete_async(ioasid);
			rc = iopt_unmap(&ioasid->iopt, iova, last, &unmapped);
			/* Another thread's UNMAP_ASYNC came in meanwhile */
			if (rc == -EAGAIN)
				rc = -EBUSY;
		}
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

/* The IOASIDs a batch touched, referenced until its end */
static struct iofd_ioasid *iofd_batch_ioasid(struct iofd_ctx *ictx,
					     struct xarray *touched, u32 id)
{
	struct iofd_ioasid *ioasid = xa_load(touched, id);
	int rc;

	if (ioasid)
		return ioasid;
	ioasid = iofd_get_ioasid(ictx, id);
	if (IS_ERR(ioasid))
		return ioasid;
	rc = xa_err(xa_store(touched, id, ioasid, GFP_KERNEL_ACCOUNT));
	if (rc) {
		iofd_put_object(&ioasid->obj);
		return ERR_PTR(rc);
	}
	return ioasid;
}

static int iofd_batch_one(struct iofd_ctx *ictx, struct xarray *touched,
			  struct ioasid_batch_op *op, u64 *seq)
{
	struct iofd_ioasid *ioasid;
	unsigned long iova, last, unmapped;
	int prot, rc;

	if (op->__reserved)
		return -EOPNOTSUPP;
	switch (op->op) {
	case IOASID_BATCH_MAP:
		prot = iofd_map_prot(op->flags, op->user_va, op->length,
				     op->iova);
		if (prot < 0)
			return prot;
		ioasid = iofd_batch_ioasid(ictx, touched, op->ioasid);
		if (IS_ERR(ioasid))
			return PTR_ERR(ioasid);
		/* The batch syncs all its maps at its end */
		return iofd_ioasid_do_map(ioasid, op->flags, op->user_va,
					  op->length, &op->iova, prot,
					  IOPT_MAP_NOSYNC, seq);
	case IOASID_BATCH_UNMAP:
		if (op->flags & ~IOASID_UNMAP_ALL)
			return -EOPNOTSUPP;
		if (op->user_va)
			return -EINVAL;
		rc = iofd_unmap_range(op->flags, op->iova, op->length, &iova,
				      &last);
		if (rc)
			return rc;
		ioasid = iofd_batch_ioasid(ictx, touched, op->ioasid);
		if (IS_ERR(ioasid))
			return PTR_ERR(ioasid);
		/* The batch flushes all its unmaps at its end */
		rc = iofd_ioasid_unmap_later(ioasid, iova, last,
					     IOASID_INVAL_UNMAP, 0, false,
					     &unmapped);
		if (rc == -ENOENT && (op->flags & IOASID_UNMAP_ALL)) {
			unmapped = 0;
			rc = 0;
		}
		if (!rc)
			op->out_length = unmapped;
		return rc;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * IOASID_BATCH: the operations in order; their maps are synced, and
 * their unmaps flushed (then unpinned and reported), once per IOASID and
 * domain at the end, whatever happened.
 */
int iofd_ioasid_batch(struct iofd_ucmd *ucmd)
{
	const size_t op_min = offsetofend(struct ioasid_batch_op, out_length);
	struct ioasid_batch *cmd = ucmd->cmd;
	struct iofd_ioasid *ioasid;
	struct xarray touched;
	unsigned long index;
	u32 done;
	int rc = 0, rc2;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->num_ops || cmd->num_ops > IOASID_BATCH_MAX_OPS ||
	    cmd->op_size < op_min)
		return -EINVAL;

	xa_init(&touched);
	for (done = 0; done != cmd->num_ops; done++) {
		void __user *uop = u64_to_user_ptr(cmd->ops) +
				   (size_t)done * cmd->op_size;
		struct ioasid_batch_op op;
		u64 seq;

		if (fatal_signal_pending(current)) {
			rc = -EINTR;
			break;
		}
		rc = copy_struct_from_user(&op, sizeof(op), uop, cmd->op_size);
		if (rc)
			break;
		rc = iofd_batch_one(ucmd->ictx, &touched, &op, &seq);
		if (rc)
			break;
		if (copy_to_user(uop, &op, min_t(size_t, cmd->op_size,
						 sizeof(op)))) {
			rc = -EFAULT;
			/*
			 * Nobody could find a mapping at an IOVA we chose
			 * and cannot tell: take it back, as IOASID_MAP does.
			 * Anything else is done, its results lost: count it.
			 */
			if (op.op == IOASID_BATCH_MAP &&
			    !(op.flags & IOASID_MAP_FIXED_IOVA)) {
				ioasid = xa_load(&touched, op.ioasid);
				iopt_unmap_seq(&ioasid->iopt, op.iova,
					       op.iova + op.length - 1, seq);
				break;
			}
			done++;
			break;
		}
		cond_resched();
	}

	xa_for_each(&touched, index, ioasid) {
		iopt_sync_maps(&ioasid->iopt);
		iofd_ioasid_complete_async(ioasid);
		iofd_put_object(&ioasid->obj);
	}
	xa_destroy(&touched);

	cmd->out_done = done;
	rc2 = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	return rc ? rc : rc2;
}
