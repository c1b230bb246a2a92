/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __IOFD_PRIVATE_H
#define __IOFD_PRIVATE_H

#include <linux/fault-inject.h>
#include <linux/ioasid_fd.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "io_pagetable.h"

#ifdef IOFD_OUT_OF_TREE
#include "iofd_oot.h"
#endif

/*
 * struct iofd_ctx - one open /dev/ioasid
 *
 * Everything a process creates through the fd hangs off this context and
 * goes away with the file's last reference: close() by every process the
 * fd was passed to, and the unbind of every device a driver bound (a
 * bound device holds a reference on the file).
 *
 * Lock order: @lock -> iopt domains_rwsem -> iopt iova_rwsem -> the
 * objects xa_lock -> @eventqs_lock -> an event queue's lock. @lock
 * serializes everything that changes which device is attached where
 * (@groups, every group's and device's attachment state, labels). Object
 * lookups only take the xa_lock. Events are reported under any of these
 * locks and from interrupts: reporters walk @eventqs and @devices under
 * RCU only.
 */
struct iofd_ctx {
	struct file *file;
	struct xarray objects;
	u32 next_id;	/* under the xa_lock of @objects; only grows */
	struct mutex lock;	/* attachment state, see above */
	struct xarray groups;
	/* Bound devices, for naming a faulting device by its label */
	struct list_head devices;
	spinlock_t eventqs_lock;	/* changes to @eventqs */
	struct list_head eventqs;
	/* Test-only replacement of RLIMIT_MEMLOCK, in pages; 0 = off */
	unsigned long test_memlock_pages;
	/* Test-only: leave IOASID_UNMAP_ASYNC pending until let go */
	bool test_async_hold;
	/* Freed a grace period after its release: fault handlers read it */
	struct rcu_head rcu;
};

/* One ioctl call, as seen by a handler after the generic checks */
struct iofd_ucmd {
	struct iofd_ctx *ictx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int iofd_ucmd_respond(struct iofd_ucmd *ucmd, size_t cmd_len);

enum iofd_object_type {
	IOFD_OBJ_NONE,
	IOFD_OBJ_ANY = IOFD_OBJ_NONE,
	IOFD_OBJ_IOASID,
	IOFD_OBJ_EVENTQ,
#ifdef CONFIG_IOASID_FD_TEST
	IOFD_OBJ_MOCK_DEVICE,
#endif
};

/*
 * struct iofd_object - the header of every object that has an ID
 *
 * Two kinds of reference keep an object alive. @users counts the long
 * ones: one for the ID table while the object is published, one per
 * object that depends on it (an attached group holds its IOASID); DESTROY
 * refuses with EBUSY while there is any but the table's. @shortterm_users
 * counts the calls that looked it up and are using it now: DESTROY takes
 * the object out of the table (so no new call finds it) and waits for
 * them to finish, rather than failing because another thread happened to
 * be in a MAP.
 */
struct iofd_object {
	refcount_t users;
	atomic_t shortterm_users;
	enum iofd_object_type type;
	u32 id;
};

struct iofd_object *_iofd_object_alloc(struct iofd_ctx *ictx, size_t size,
				       enum iofd_object_type type);
#define iofd_object_alloc(ictx, ptr, type)                                    \
	container_of(_iofd_object_alloc(ictx,                                 \
					sizeof(*(ptr)) +                      \
					BUILD_BUG_ON_ZERO(offsetof(typeof(*(ptr)), \
								   obj) != 0),\
					type),                                \
		     typeof(*(ptr)), obj)
void iofd_object_abort(struct iofd_ctx *ictx, struct iofd_object *obj);
void iofd_object_finalize(struct iofd_ctx *ictx, struct iofd_object *obj);
struct iofd_object *iofd_get_object(struct iofd_ctx *ictx, u32 id,
				    enum iofd_object_type type);
int iofd_object_destroy_user(struct iofd_ctx *ictx, u32 id);

void iofd_put_object(struct iofd_object *obj);

/* Make a looked-up object's reference a long one (see struct iofd_object) */
static inline void iofd_object_hold(struct iofd_object *obj)
{
	refcount_inc(&obj->users);
}

static inline void iofd_object_unhold(struct iofd_object *obj)
{
	/* The ID table holds a reference until the object is destroyed */
	refcount_dec(&obj->users);
}

/*
 * struct iofd_ioasid - an I/O address space
 *
 * The IOVA space and everything mapped in it live in @iopt; the IOASID
 * is the handle userspace names it by. @async_work completes the
 * IOASID_UNMAP_ASYNC calls pending in @iopt.
 *
 * @async_lock is held across a whole completion (flush, unpin, report),
 * so that a caller that finds nothing pending has also waited for the
 * completion already under way. Lock order: @async_lock -> iopt locks.
 */
struct iofd_ioasid {
	struct iofd_object obj;
	struct iofd_ctx *ictx;
	struct iofd_iopt iopt;
	struct work_struct async_work;
	struct mutex async_lock;	/* one completion at a time, see above */
};

static inline struct iofd_ioasid *iofd_get_ioasid(struct iofd_ctx *ictx,
						  u32 id)
{
	struct iofd_object *obj = iofd_get_object(ictx, id, IOFD_OBJ_IOASID);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iofd_ioasid, obj);
}

void iofd_ioasid_destroy(struct iofd_object *obj);
int iofd_ioasid_alloc_ioctl(struct iofd_ucmd *ucmd);
int iofd_ioasid_iova_ranges(struct iofd_ucmd *ucmd);
int iofd_ioasid_map(struct iofd_ucmd *ucmd);
int iofd_ioasid_unmap(struct iofd_ucmd *ucmd);
int iofd_ioasid_batch(struct iofd_ucmd *ucmd);
void iofd_ioasid_complete_async(struct iofd_ioasid *ioasid);

/* events.c */
int iofd_eventq_alloc_ioctl(struct iofd_ucmd *ucmd);
void iofd_eventq_destroy(struct iofd_object *obj);
void iofd_report_event(struct iofd_ctx *ictx, const struct ioasid_event *event);
void iofd_report_inval(struct iofd_ctx *ictx, u32 ioasid, u64 label,
		       u64 iova, u64 last, u32 cause, u64 cookie);
void iofd_report_fault(struct iofd_ctx *ictx, u32 ioasid, u64 label,
		       unsigned long iova, int flags);

/* device.c; the rest of its API is in <linux/ioasid_fd.h> */
void iofd_ctx_groups_init(struct iofd_ctx *ictx);
void iofd_ctx_groups_destroy(struct iofd_ctx *ictx);
struct iofd_device *__iofd_device_bind(struct iofd_ctx *ictx,
				       struct device *dev, bool mock);
int iofd_device_info_ioctl(struct iofd_ucmd *ucmd);

/*
 * Fault injection where failslab cannot reach (GUP, IOMMU driver calls),
 * for the selftests' fail_nth sweep; nothing without the test Kconfig.
 */
#ifdef CONFIG_IOASID_FD_TEST
extern struct fault_attr iofd_fail_attr;

static inline bool iofd_should_fail(void)
{
	return should_fail(&iofd_fail_attr, 1);
}

int iofd_test(struct iofd_ucmd *ucmd);
void iofd_selftest_destroy(struct iofd_object *obj);
int __init iofd_test_init(void);
void iofd_test_exit(void);
#else
static inline bool iofd_should_fail(void)
{
	return false;
}

static inline int iofd_test_init(void)
{
	return 0;
}

static inline void iofd_test_exit(void)
{
}
#endif

/*
 * Invariants too expensive to check in production: assertions under the
 * selftests, nothing otherwise.
 */
#define IOFD_TEST_WARN_ON(cond)                                                \
	do {                                                                   \
		if (IS_ENABLED(CONFIG_IOASID_FD_TEST))                         \
			WARN_ON(cond);                                         \
	} while (0)

#endif
