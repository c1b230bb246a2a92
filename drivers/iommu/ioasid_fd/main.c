// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/ioasid: the file, the ioctl dispatch and the module.
 *
 * Each open of /dev/ioasid creates a context (struct iofd_ctx) that owns
 * everything the process builds through it. The fd is the only handle to
 * the context: it can be passed to another process and keeps working
 * there, and the context dies with the file's last reference.
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
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/ioasid_fd.h>

#include "iofd_private.h"

static int iofd_fops_open(struct inode *inode, struct file *filp)
{
	struct iofd_ctx *ictx;

	ictx = kzalloc(sizeof(*ictx), GFP_KERNEL_ACCOUNT);
	if (!ictx)
		return -ENOMEM;

	ictx->file = filp;
	filp->private_data = ictx;
	return 0;
}

static int iofd_fops_release(struct inode *inode, struct file *filp)
{
	struct iofd_ctx *ictx = filp->private_data;

	kfree(ictx);
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
	cmd->out_capabilities = 0;
	if (IS_ENABLED(CONFIG_IOASID_FD_TEST))
		cmd->out_capabilities |= IOASID_CAP_TEST;
	return iofd_ucmd_respond(ucmd, sizeof(*cmd));
}

/* Large enough for the biggest command structure; checked by IOCTL_OP() */
union iofd_ucmd_buffer {
	struct ioasid_info info;
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

	ret = misc_register(&iofd_misc_dev);
	if (ret)
		return ret;
	return 0;
}

static void __exit iofd_exit(void)
{
	misc_deregister(&iofd_misc_dev);
}

module_init(iofd_init);
module_exit(iofd_exit);

MODULE_DESCRIPTION("/dev/ioasid: userspace-owned I/O address spaces");
MODULE_LICENSE("GPL");
