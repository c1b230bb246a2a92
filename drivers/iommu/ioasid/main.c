// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/ioasid: the file, the ioctl dispatch and the module.
 *
 * Each open of /dev/ioasid creates a context (struct iofd_ctx) that owns
 * everything the process builds through it. The fd is the only handle to
 * the context: it can be passed to another process and keeps working
 * there, and the context dies with the file's last reference.
 *
 * Objects: what userspace creates (IOASIDs, event queues; with the
 * selftest mock, mock devices) lives in a per-context xarray under a u32
 * ID that is never 0 and never reused while the context lives, so that a
 * stale ID fails rather than naming a newer object.
 * Creation is two-phase: the ID is reserved first (a lookup cannot see
 * it), everything that can fail is done, and only then is the object
 * published; a published object is destroyed only by DESTROY or close.
 * Every object starts with struct iofd_object, whose refcount holds one
 * reference for the table and one per user; DESTROY succeeds only when
 * the table's is the last. Close destroys the leaves first and repeats:
 * a pass that finds nothing it can destroy means a leaked reference.
 * Event queues go last, so that they still see what the close itself
 * reports (devices removed, IOASIDs destroyed).
 *
 * All ioctls share one calling convention (see the uAPI header): the
 * argument points to a structure that starts with its own size. The
 * dispatcher below owns that convention, so that no handler parses sizes
 * or tails itself: it looks the command up in a table, rejects a size
 * below the structure's first release, copies the structure in with
 * copy_struct_from_user() (which refuses a non-zero unknown tail) and
 * hands the handler a kernel copy. Handlers check flags and reserved
 * fields, do the work and copy results back with iofd_ucmd_respond().
 */
#define pr_fmt(fmt) "ioasid_fd: " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/ioasid_fd.h>

#include "iofd_private.h"
#ifdef CONFIG_IOASID_FD_TEST
#include "iofd_test.h"
#endif

/* DESTROY waits here for the calls that use the object to finish */
static DECLARE_WAIT_QUEUE_HEAD(iofd_destroy_wait);

struct iofd_object *_iofd_object_alloc(struct iofd_ctx *ictx, size_t size,
				       enum iofd_object_type type)
{
	struct iofd_object *obj;
	int rc;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	/* The reference the table will hold once the object is published */
	refcount_set(&obj->users, 1);

	/*
	 * Reserve the ID: lookups see nothing here until finalize. IDs only
	 * grow, so a stale ID never names a newer object: once the 31-bit
	 * space is used up the fd makes no more objects.
	 */
	xa_lock(&ictx->objects);
	if (ictx->next_id > INT_MAX) {
		rc = -ENOSPC;
	} else {
		/*
		 * Taken before the slot is filled: the insert may drop the
		 * lock to allocate, and no one else may get this ID then.
		 * An ID whose insert fails is simply never used.
		 */
		obj->id = ictx->next_id++;
		rc = __xa_insert(&ictx->objects, obj->id, NULL,
				 GFP_KERNEL_ACCOUNT);
	}
	xa_unlock(&ictx->objects);
	if (rc) {
		kfree(obj);
		return ERR_PTR(rc);
	}
	return obj;
}

/* Publish: from now on only DESTROY or close can remove the object */
void iofd_object_finalize(struct iofd_ctx *ictx, struct iofd_object *obj)
{
	void *old;

	old = xa_store(&ictx->objects, obj->id, obj, GFP_KERNEL);
	/* The reserved slot needs no allocation and cannot fail */
	WARN_ON(old);
}

/* Undo _iofd_object_alloc() for an object that was never published */
void iofd_object_abort(struct iofd_ctx *ictx, struct iofd_object *obj)
{
	xa_erase(&ictx->objects, obj->id);
	kfree(obj);
}

/**
 * iofd_get_object - look up an object and take a reference
 * @ictx: the context
 * @id: the object's ID
 * @type: the type it must have, or IOFD_OBJ_ANY
 *
 * Return: the object, to be released with iofd_put_object(), or
 * ERR_PTR(-ENOENT).
 */
struct iofd_object *iofd_get_object(struct iofd_ctx *ictx, u32 id,
				    enum iofd_object_type type)
{
	struct iofd_object *obj;

	xa_lock(&ictx->objects);
	/* Reserved and dying objects are zero entries: NULL here */
	obj = xa_load(&ictx->objects, id);
	if (!obj || (type != IOFD_OBJ_ANY && obj->type != type))
		obj = ERR_PTR(-ENOENT);
	else
		atomic_inc(&obj->shortterm_users);
	xa_unlock(&ictx->objects);
	return obj;
}

/**
 * iofd_put_object - drop the reference iofd_get_object() took
 * @obj: the object
 */
void iofd_put_object(struct iofd_object *obj)
{
	if (atomic_dec_and_test(&obj->shortterm_users) &&
	    wq_has_sleeper(&iofd_destroy_wait))
		wake_up_all(&iofd_destroy_wait);
}

static void iofd_object_destroy(struct iofd_object *obj)
{
	switch (obj->type) {
	case IOFD_OBJ_IOASID:
		iofd_ioasid_destroy(obj);
		break;
	case IOFD_OBJ_EVENTQ:
		iofd_eventq_destroy(obj);
		break;
#ifdef CONFIG_IOASID_FD_TEST
	case IOFD_OBJ_MOCK_DEVICE:
		iofd_selftest_destroy(obj);
		break;
#endif
	default:
		WARN_ON(true);
	}
	kfree(obj);
}

/*
 * Take @obj out of the table if the table's reference is the only one.
 * Lookups take their references under the same lock, so none can appear
 * between the check and the removal.
 */
static bool iofd_object_remove(struct iofd_ctx *ictx, struct iofd_object *obj)
{
	lockdep_assert_held(&ictx->objects.xa_lock);

	if (!refcount_dec_if_one(&obj->users))
		return false;
	__xa_erase(&ictx->objects, obj->id);
	return true;
}

/**
 * iofd_object_destroy_user - destroy an object at userspace's request
 * @ictx: the context
 * @id: the object's ID
 *
 * Calls that are using the object are waited for: it leaves the table
 * first, so that no new one finds it.
 *
 * Return: 0, -ENOENT if there is no such object, -EBUSY if another object
 * depends on it, -EINTR if a signal came while waiting.
 */
int iofd_object_destroy_user(struct iofd_ctx *ictx, u32 id)
{
	struct iofd_object *obj;
	int rc = 0;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, id);
	if (!obj) {
		xa_unlock(&ictx->objects);
		return -ENOENT;
	}
	if (refcount_read(&obj->users) != 1) {
		xa_unlock(&ictx->objects);
		return -EBUSY;
	}
	/* Replacing an entry allocates nothing */
	__xa_store(&ictx->objects, id, XA_ZERO_ENTRY, GFP_ATOMIC);
	xa_unlock(&ictx->objects);

	if (wait_event_interruptible(iofd_destroy_wait,
				     !atomic_read(&obj->shortterm_users)))
		rc = -EINTR;

	xa_lock(&ictx->objects);
	/* A call that was using it may have made something depend on it */
	if (!rc && !iofd_object_remove(ictx, obj))
		rc = -EBUSY;
	if (rc)
		__xa_store(&ictx->objects, id, obj, GFP_ATOMIC);
	xa_unlock(&ictx->objects);
	if (rc)
		return rc;
	iofd_object_destroy(obj);
	return 0;
}

static int iofd_fops_open(struct inode *inode, struct file *filp)
{
	struct iofd_ctx *ictx;

	ictx = kzalloc(sizeof(*ictx), GFP_KERNEL_ACCOUNT);
	if (!ictx)
		return -ENOMEM;

	xa_init_flags(&ictx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	ictx->next_id = 1;
	mutex_init(&ictx->lock);
	spin_lock_init(&ictx->eventqs_lock);
	INIT_LIST_HEAD(&ictx->eventqs);
	iofd_ctx_groups_init(ictx);
	ictx->file = filp;
	filp->private_data = ictx;
	return 0;
}

static int iofd_fops_release(struct inode *inode, struct file *filp)
{
	struct iofd_ctx *ictx = filp->private_data;
	struct iofd_object *obj;
	unsigned long index;

	/*
	 * Leaves first: an object nothing else references. Destroying it
	 * drops its references, which turns others into leaves.
	 */
	while (!xa_empty(&ictx->objects)) {
		unsigned int destroyed = 0;
		bool queues_only = true;

		xa_for_each(&ictx->objects, index, obj)
			if (obj->type != IOFD_OBJ_EVENTQ)
				queues_only = false;

		xa_for_each(&ictx->objects, index, obj) {
			bool removed;

			if (obj->type == IOFD_OBJ_EVENTQ && !queues_only)
				continue;
			xa_lock(&ictx->objects);
			removed = iofd_object_remove(ictx, obj);
			xa_unlock(&ictx->objects);
			if (!removed)
				continue;
			iofd_object_destroy(obj);
			destroyed++;
		}
		/* Nothing destroyable, yet objects left: a reference leaked */
		if (WARN_ON(!destroyed))
			break;
	}
	iofd_ctx_groups_destroy(ictx);
	WARN_ON(!list_empty(&ictx->eventqs));
	xa_destroy(&ictx->objects);
	mutex_destroy(&ictx->lock);
	/* A fault handler may still be reporting to it (see device.c) */
	kfree_rcu(ictx, rcu);
	return 0;
}

/**
 * iofd_ucmd_respond - copy a command's results back to userspace
 * @ucmd: the command being executed
 * @cmd_len: the size of the kernel's structure
 *
 * Only the bytes userspace gave us are written: a shorter, older structure
 * gets the fields it knows about and nothing past its end.
 *
 * Return: 0, or -EFAULT.
 */
int iofd_ucmd_respond(struct iofd_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static int iofd_info(struct iofd_ucmd *ucmd)
{
	struct ioasid_info *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;

	cmd->out_api_version = IOASID_API_VERSION;
	cmd->out_capabilities = IOASID_CAP_EVENTS | IOASID_CAP_BATCH;
	if (IS_ENABLED(CONFIG_IOASID_FD_TEST))
		cmd->out_capabilities |= IOASID_CAP_TEST;
	return iofd_ucmd_respond(ucmd, sizeof(*cmd));
}

static int iofd_destroy(struct iofd_ucmd *ucmd)
{
	struct ioasid_destroy *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	return iofd_object_destroy_user(ucmd->ictx, cmd->id);
}

/* Large enough for the biggest command structure; checked by IOCTL_OP() */
union iofd_ucmd_buffer {
	struct ioasid_info info;
	struct ioasid_destroy destroy;
	struct ioasid_alloc alloc;
	struct ioasid_iova_ranges iova_ranges;
	struct ioasid_map map;
	struct ioasid_unmap unmap;
	struct ioasid_eventq_alloc eventq_alloc;
	struct ioasid_device_info device_info;
	struct ioasid_batch batch;
#ifdef CONFIG_IOASID_FD_TEST
	struct ioasid_test_cmd test;
#endif
};

struct iofd_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct iofd_ucmd *ucmd);
};

/*
 * @_last is the last field of the structure's first release: userspace
 * built against that release passes exactly offsetofend(@_last) bytes.
 */
#define IOCTL_OP(_ioctl, _fn, _struct, _last)				\
	[_IOC_NR(_ioctl) - IOASID_CMD_BASE] = {				\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union iofd_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = _ioctl,					\
		.execute = _fn,						\
	}

static const struct iofd_ioctl_op iofd_ioctl_ops[] = {
	IOCTL_OP(IOASID_INFO, iofd_info, struct ioasid_info,
		 out_capabilities),
	IOCTL_OP(IOASID_DESTROY, iofd_destroy, struct ioasid_destroy,
		 __reserved),
	IOCTL_OP(IOASID_ALLOC, iofd_ioasid_alloc_ioctl, struct ioasid_alloc,
		 __reserved),
	IOCTL_OP(IOASID_IOVA_RANGES, iofd_ioasid_iova_ranges,
		 struct ioasid_iova_ranges, out_iova_alignment),
	IOCTL_OP(IOASID_MAP, iofd_ioasid_map, struct ioasid_map, iova),
	IOCTL_OP(IOASID_UNMAP, iofd_ioasid_unmap, struct ioasid_unmap,
		 out_length),
	IOCTL_OP(IOASID_EVENTQ_ALLOC, iofd_eventq_alloc_ioctl,
		 struct ioasid_eventq_alloc, out_fd),
	IOCTL_OP(IOASID_DEVICE_INFO, iofd_device_info_ioctl,
		 struct ioasid_device_info, reserved),
	IOCTL_OP(IOASID_BATCH, iofd_ioasid_batch, struct ioasid_batch,
		 __reserved),
#ifdef CONFIG_IOASID_FD_TEST
	IOCTL_OP(IOASID_TEST, iofd_test, struct ioasid_test_cmd, last),
#endif
};

static long iofd_fops_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	const struct iofd_ioctl_op *op;
	struct iofd_ucmd ucmd = {};
	union iofd_ucmd_buffer buf;
	unsigned int nr;
	int ret;

	nr = _IOC_NR(cmd);
	if (_IOC_TYPE(cmd) != IOASID_FD_TYPE || nr < IOASID_CMD_BASE ||
	    nr - IOASID_CMD_BASE >= ARRAY_SIZE(iofd_ioctl_ops))
		return -ENOTTY;
	op = &iofd_ioctl_ops[array_index_nospec(nr - IOASID_CMD_BASE,
						ARRAY_SIZE(iofd_ioctl_ops))];
	/* A hole in the table, or the right number with the wrong encoding */
	if (op->ioctl_num != cmd)
		return -ENOTTY;

	ucmd.ictx = filp->private_data;
	ucmd.ubuffer = (void __user *)arg;
	ret = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (ret)
		return ret;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;

	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}

static const struct file_operations iofd_fops;

/**
 * iofd_ctx_from_file - the context behind an ioasid fd
 * @file: a file userspace handed to the driver
 *
 * Return: the context with a reference held on @file, to be dropped with
 * iofd_ctx_put(); ERR_PTR(-EBADFD) if @file is not an open /dev/ioasid.
 */
struct iofd_ctx *iofd_ctx_from_file(struct file *file)
{
	if (file->f_op != &iofd_fops)
		return ERR_PTR(-EBADFD);
	get_file(file);
	return file->private_data;
}
EXPORT_SYMBOL_NS_GPL(iofd_ctx_from_file, IOASID_FD);

/**
 * iofd_ctx_put - drop the reference iofd_ctx_from_file() took
 * @ictx: the context
 */
void iofd_ctx_put(struct iofd_ctx *ictx)
{
	fput(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iofd_ctx_put, IOASID_FD);

static const struct file_operations iofd_fops = {
	.owner = THIS_MODULE,
	.open = iofd_fops_open,
	.release = iofd_fops_release,
	.unlocked_ioctl = iofd_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice iofd_misc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioasid",
	.fops = &iofd_fops,
	.nodename = "ioasid",
	/* Pinning is charged to RLIMIT_MEMLOCK; who may pin is policy */
	.mode = 0660,
};

static int __init iofd_init(void)
{
	int ret;

	ret = iofd_test_init();
	if (ret)
		return ret;
	ret = misc_register(&iofd_misc_dev);
	if (ret)
		goto err_test_exit;
	return 0;

err_test_exit:
	iofd_test_exit();
	return ret;
}

static void __exit iofd_exit(void)
{
	misc_deregister(&iofd_misc_dev);
	iofd_test_exit();
	/* Event queues freed by call_rcu() run code of this module */
	rcu_barrier();
}

module_init(iofd_init);
module_exit(iofd_exit);

MODULE_DESCRIPTION("/dev/ioasid: userspace-owned I/O address spaces");
MODULE_LICENSE("GPL");
