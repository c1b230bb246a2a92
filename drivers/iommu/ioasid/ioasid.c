// SPDX-License-Identifier: GPL-2.0-only
/*
 * The IOASID ioctls: parse and check the user's structure, call the IOVA
 * space (io_pagetable.c), copy the answer back. Nothing here knows how
 * mappings are stored.
 */
#include <linux/capability.h>
#include <linux/iommu.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <uapi/linux/ioasid_fd.h>

#include "iofd_private.h"

void iofd_ioasid_destroy(struct iofd_object *obj)
{
	struct iofd_ioasid *ioasid = container_of(obj, struct iofd_ioasid, obj);

	iopt_destroy(&ioasid->iopt);
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
	iopt_init(&ioasid->iopt);

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

int iofd_ioasid_unmap(struct iofd_ucmd *ucmd)
{
	struct ioasid_unmap *cmd = ucmd->cmd;
	struct iofd_ioasid *ioasid;
	unsigned long last, unmapped;
	int rc;

	if ((cmd->flags & ~IOASID_UNMAP_ALL) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_UNMAP_ALL) {
		if (cmd->iova || cmd->length)
			return -EINVAL;
	} else {
		if (!cmd->length || !PAGE_ALIGNED(cmd->iova) ||
		    !PAGE_ALIGNED(cmd->length))
			return -EINVAL;
		if (cmd->iova > ULONG_MAX ||
		    check_add_overflow((unsigned long)cmd->iova,
				       (unsigned long)(cmd->length - 1), &last) ||
		    cmd->length > ULONG_MAX)
			return -EOVERFLOW;
	}

	ioasid = iofd_get_ioasid(ucmd->ictx, cmd->ioasid);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);

	if (cmd->flags & IOASID_UNMAP_ALL) {
		rc = iopt_unmap(&ioasid->iopt, 0, ULONG_MAX, &unmapped);
		/* Emptying an empty IOASID is not an error */
		if (rc == -ENOENT)
			rc = 0;
	} else {
		rc = iopt_unmap(&ioasid->iopt, cmd->iova, last, &unmapped);
	}
	if (rc)
		goto out_put;

	cmd->out_length = unmapped;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iofd_put_object(&ioasid->obj);
	return rc;
}
