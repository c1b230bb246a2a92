// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event queues: what happened to a context's IOASIDs and devices (DMA
 * faults, ranges that stopped being reachable), read from a file of
 * their own.
 *
 * Reporting happens wherever the event happens, and a DMA fault happens
 * in the IOMMU's interrupt handler, which may be a hard IRQ that is never
 * threaded, even on PREEMPT_RT (VT-d's dmar_fault()). So the reporting
 * side never sleeps, never allocates and takes only raw spinlocks: each
 * queue is a ring of fixed-size records, allocated when the queue is
 * created, and a report copies one record into every queue whose filter
 * matches, under that queue's raw spinlock, which guards nothing longer
 * than the copy of one record. Waking the queue's readers and pollers
 * takes the waitqueue's spinlock_t, and runs whatever io_uring or epoll
 * hung on it, so a report only queues an irq_work that does it, as perf
 * wakes its readers: from the interrupt that follows, or from the
 * irq_work thread on PREEMPT_RT.
 *
 * A full queue drops the record and counts it; the count becomes a LOST
 * record placed before the next record that fits, or handed to the
 * reader once the ring is empty, so the reader always learns of a gap
 * and sequence numbers show where it was. Reporters find the queues on
 * an RCU list of the context, and a queue is freed only an RCU grace
 * period after it left that list.
 *
 * The reading side is built for io_uring: read_iter() copies whole
 * records straight from the ring (one reader at a time, so the slots it
 * copies cannot be reused under it), never blocks under IOCB_NOWAIT or
 * O_NONBLOCK, and the file has FMODE_NOWAIT and poll(). That is what
 * IORING_OP_READ_MULTISHOT needs to be served from the poll wakeup
 * without a worker thread.
 *
 * A queue is an object of the context (so IOASID_DESTROY takes its ID)
 * and a file (so it is read and polled like any fd). They hold a
 * reference each; the object going away (DESTROY, or the close of the
 * ioasid fd) only ends the queue, which then reads what is left and
 * then end of file.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/irq_work.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <uapi/linux/ioasid_fd.h>

#include "iofd_private.h"

/*
 * struct iofd_eventq - an event queue
 * @kref: one reference for the object, one for the file
 * @item: on ictx->eventqs while the object lives (RCU for reporters)
 * @lock: the ring and the counters below; taken in any context, so raw
 * @read_lock: serializes readers
 * @wait: readers and pollers
 * @wake_work: wakes @wait for reporters, which cannot (see the top)
 * @ioasid: the IOASID filter, 0 for all
 * @mask: IOASID_EVENT_MASK() bits of the wanted types
 * @depth: slots in @ring
 * @head: the oldest record
 * @count: records in @ring
 * @seq: the sequence number of the next event
 * @lost: events dropped since the last LOST record
 * @lost_seq: the sequence number of the first of them
 * @dead: the object is gone: no more events, EOF once empty
 * @ring: @depth records
 * @rcu: frees the queue after reporters are done with it
 */
struct iofd_eventq {
	struct kref kref;
	struct list_head item;
	raw_spinlock_t lock;	/* the ring, see above */
	struct mutex read_lock;	/* one reader */
	wait_queue_head_t wait;
	struct irq_work wake_work;
	u32 ioasid;
	u64 mask;
	u32 depth;
	u32 head;
	u32 count;
	u64 seq;
	u64 lost;
	u64 lost_seq;
	bool dead;
	struct ioasid_event *ring;
	struct rcu_head rcu;
};

/* The object userspace names by ID; the queue itself outlives it */
struct iofd_eventq_obj {
	struct iofd_object obj;
	struct iofd_ctx *ictx;
	struct iofd_eventq *eventq;
};

static void iofd_eventq_free_rcu(struct rcu_head *rcu)
{
	struct iofd_eventq *eventq = container_of(rcu, struct iofd_eventq, rcu);

	kvfree(eventq->ring);
	kfree(eventq);
}

static void iofd_eventq_release_kref(struct kref *kref)
{
	struct iofd_eventq *eventq = container_of(kref, struct iofd_eventq,
						  kref);

	mutex_destroy(&eventq->read_lock);
	/* Queued only before the queue died, under its lock: none comes later */
	irq_work_sync(&eventq->wake_work);
	/* A reporter may still be walking past it on the RCU list */
	call_rcu(&eventq->rcu, iofd_eventq_free_rcu);
}

static void iofd_eventq_put(struct iofd_eventq *eventq)
{
	kref_put(&eventq->kref, iofd_eventq_release_kref);
}

static struct ioasid_event *iofd_eventq_slot(struct iofd_eventq *eventq,
					     u32 n)
{
	return &eventq->ring[(eventq->head + n) % eventq->depth];
}

/* The reporters' wakeup, in a context that may take a spinlock_t */
static void iofd_eventq_wake(struct irq_work *work)
{
	struct iofd_eventq *eventq = container_of(work, struct iofd_eventq,
						  wake_work);

	wake_up_poll(&eventq->wait, EPOLLIN | EPOLLRDNORM);
}

/* Queue @event, or count it as lost; any context */
static void iofd_eventq_add(struct iofd_eventq *eventq,
			    const struct ioasid_event *event)
{
	struct ioasid_event *slot;
	unsigned long flags;

	raw_spin_lock_irqsave(&eventq->lock, flags);
	if (eventq->dead)
		goto out_unlock;
	/* A gap is reported before what comes after it: that needs a slot */
	if (eventq->depth - eventq->count < 1 + !!eventq->lost) {
		if (!eventq->lost)
			eventq->lost_seq = eventq->seq;
		eventq->lost++;
		eventq->seq++;
		goto out_unlock;
	}
	if (eventq->lost) {
		slot = iofd_eventq_slot(eventq, eventq->count++);
		memset(slot, 0, sizeof(*slot));
		slot->type = IOASID_EVENT_LOST;
		slot->seq = eventq->lost_seq;
		slot->lost.count = eventq->lost;
		eventq->lost = 0;
	}
	slot = iofd_eventq_slot(eventq, eventq->count++);
	*slot = *event;
	slot->seq = eventq->seq++;
	/*
	 * Under the lock, so that it is queued before the queue can die and
	 * its release wait for it. Already pending, it wakes for this one too.
	 */
	if (wq_has_sleeper(&eventq->wait))
		irq_work_queue(&eventq->wake_work);
out_unlock:
	raw_spin_unlock_irqrestore(&eventq->lock, flags);
}

static bool iofd_eventq_wants(struct iofd_eventq *eventq,
			      const struct ioasid_event *event)
{
	if (!(eventq->mask & IOASID_EVENT_MASK(event->type)))
		return false;
	return !eventq->ioasid || eventq->ioasid == event->ioasid;
}

/**
 * iofd_report_event - give an event to every queue that wants it
 * @ictx: the context
 * @event: the record, zeroed and then filled but for @seq
 *
 * Any context, hard IRQ included: never sleeps, never allocates, takes
 * only raw spinlocks.
 */
void iofd_report_event(struct iofd_ctx *ictx, const struct ioasid_event *event)
{
	struct iofd_eventq *eventq;

	rcu_read_lock();
	list_for_each_entry_rcu(eventq, &ictx->eventqs, item)
		if (iofd_eventq_wants(eventq, event))
			iofd_eventq_add(eventq, event);
	rcu_read_unlock();
}

/**
 * iofd_report_inval - report that a range is no longer reachable by DMA
 * @ictx: the context
 * @ioasid: the IOASID's ID
 * @label: the device that no longer reaches it, 0 for every device
 * @iova: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 * @cause: an &enum ioasid_inval_cause
 * @cookie: the user's cookie, for IOASID_INVAL_ASYNC_UNMAP
 *
 * Call it after the IOTLB flush that made it true.
 */
void iofd_report_inval(struct iofd_ctx *ictx, u32 ioasid, u64 label,
		       u64 iova, u64 last, u32 cause, u64 cookie)
{
	struct ioasid_event event;

	if (list_empty_careful(&ictx->eventqs))
		return;
	memset(&event, 0, sizeof(event));
	event.type = IOASID_EVENT_INVAL;
	event.ioasid = ioasid;
	event.label = label;
	event.inval.iova = iova;
	event.inval.last = last;
	event.inval.cause = cause;
	event.inval.cookie = cookie;
	iofd_report_event(ictx, &event);
}

/**
 * iofd_report_fault - report a DMA fault
 * @ictx: the context
 * @ioasid: the IOASID the device is attached to, 0 if none
 * @label: the faulting device's label, 0 if it has none or the IOMMU
 *	could not tell which device it was
 * @iova: the faulting IOVA
 * @flags: the IOMMU_FAULT_* flags of report_iommu_fault()
 *
 * Called from an IOMMU driver's fault interrupt, maybe a hard IRQ that
 * is never threaded, through the handler the core installs on its
 * domains, which holds the RCU read lock that keeps @ictx: never sleeps,
 * never allocates, takes only raw spinlocks.
 */
void iofd_report_fault(struct iofd_ctx *ictx, u32 ioasid, u64 label,
		       unsigned long iova, int flags)
{
	struct ioasid_event event;

	if (list_empty_careful(&ictx->eventqs))
		return;
	memset(&event, 0, sizeof(event));
	event.type = IOASID_EVENT_FAULT;
	event.ioasid = ioasid;
	event.label = label;
	event.fault.iova = iova;
	event.fault.access = (flags & IOMMU_FAULT_WRITE) ? IOASID_FAULT_WRITE :
							   IOASID_FAULT_READ;
	if (flags & IOMMU_FAULT_NO_TRANSLATION)
		event.fault.reason = IOASID_FAULT_NOT_MAPPED;
	else if (flags & IOMMU_FAULT_PERMISSION)
		event.fault.reason = IOASID_FAULT_NOT_PERMITTED;
	else
		event.fault.reason = IOASID_FAULT_OTHER;
	event.fault.vendor_code = IOMMU_FAULT_REASON(flags);
	iofd_report_event(ictx, &event);
}

static bool iofd_eventq_readable(struct iofd_eventq *eventq)
{
	return READ_ONCE(eventq->count) || READ_ONCE(eventq->lost) ||
	       READ_ONCE(eventq->dead);
}

/*
 * Copy up to @max records to @to. Called with read_lock held: the slots
 * between head and head + count are the reader's, producers only write
 * beyond them, so they are copied without the spinlock.
 */
static ssize_t iofd_eventq_copy(struct iofd_eventq *eventq,
				struct iov_iter *to, u32 max)
{
	u32 head, n, first, done;
	struct ioasid_event *slot;
	size_t copied;

	raw_spin_lock_irq(&eventq->lock);
	if (!eventq->count && eventq->lost) {
		/*
		 * The ring is empty: the gap is the next thing to report. It
		 * goes into the ring as a record, so that a copy that faults
		 * leaves it there, as it leaves any record.
		 */
		slot = iofd_eventq_slot(eventq, eventq->count++);
		memset(slot, 0, sizeof(*slot));
		slot->type = IOASID_EVENT_LOST;
		slot->seq = eventq->lost_seq;
		slot->lost.count = eventq->lost;
		eventq->lost = 0;
	}
	head = eventq->head;
	n = min(max, eventq->count);
	raw_spin_unlock_irq(&eventq->lock);

	first = min(n, eventq->depth - head);
	copied = copy_to_iter(&eventq->ring[head], first * sizeof(*slot), to);
	if (copied == first * sizeof(*slot) && n > first)
		copied += copy_to_iter(eventq->ring,
				       (n - first) * sizeof(*slot), to);
	/* Only whole records leave the ring */
	done = copied / sizeof(*slot);
	if (!done)
		return n ? -EFAULT : 0;

	raw_spin_lock_irq(&eventq->lock);
	eventq->head = (eventq->head + done) % eventq->depth;
	eventq->count -= done;
	raw_spin_unlock_irq(&eventq->lock);
	return done * sizeof(*slot);
}

static ssize_t iofd_eventq_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct iofd_eventq *eventq = iocb->ki_filp->private_data;
	bool nowait = (iocb->ki_flags & IOCB_NOWAIT) ||
		      (iocb->ki_filp->f_flags & O_NONBLOCK);
	size_t max = iov_iter_count(to) / IOASID_EVENT_SIZE;
	ssize_t done = 0, rc;

	BUILD_BUG_ON(sizeof(struct ioasid_event) != IOASID_EVENT_SIZE);

	if (!max)
		return -EINVAL;
	max = min_t(size_t, max, IOASID_EVENTQ_MAX_DEPTH);

	if (nowait) {
		if (!mutex_trylock(&eventq->read_lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&eventq->read_lock)) {
		return -ERESTARTSYS;
	}

	/* Block only for the first record */
	while (!READ_ONCE(eventq->count) && !READ_ONCE(eventq->lost)) {
		if (READ_ONCE(eventq->dead))
			goto out_unlock;
		if (nowait) {
			done = -EAGAIN;
			goto out_unlock;
		}
		if (wait_event_interruptible(eventq->wait,
					     iofd_eventq_readable(eventq))) {
			done = -ERESTARTSYS;
			goto out_unlock;
		}
	}

	/* The ring, then the gap if it emptied with one pending */
	while (done / IOASID_EVENT_SIZE < max) {
		rc = iofd_eventq_copy(eventq, to,
				      max - done / IOASID_EVENT_SIZE);
		if (rc <= 0) {
			if (!done)
				done = rc;
			break;
		}
		done += rc;
	}
out_unlock:
	mutex_unlock(&eventq->read_lock);
	return done;
}

static __poll_t iofd_eventq_poll(struct file *filp, poll_table *wait)
{
	struct iofd_eventq *eventq = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &eventq->wait, wait);
	raw_spin_lock_irq(&eventq->lock);
	if (eventq->count || eventq->lost)
		mask = EPOLLIN | EPOLLRDNORM;
	else if (eventq->dead)
		/* read() returns 0 now: end of file */
		mask = EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	raw_spin_unlock_irq(&eventq->lock);
	return mask;
}

static int iofd_eventq_release(struct inode *inode, struct file *filp)
{
	iofd_eventq_put(filp->private_data);
	return 0;
}

static const struct file_operations iofd_eventq_fops = {
	.owner = THIS_MODULE,
	.read_iter = iofd_eventq_read_iter,
	.poll = iofd_eventq_poll,
	.release = iofd_eventq_release,
	.llseek = noop_llseek,
};

/* Destroy of the object: the queue takes no more events and ends */
void iofd_eventq_destroy(struct iofd_object *obj)
{
	struct iofd_eventq_obj *qobj =
		container_of(obj, struct iofd_eventq_obj, obj);
	struct iofd_eventq *eventq = qobj->eventq;
	struct iofd_ctx *ictx = qobj->ictx;

	spin_lock(&ictx->eventqs_lock);
	list_del_rcu(&eventq->item);
	spin_unlock(&ictx->eventqs_lock);

	raw_spin_lock_irq(&eventq->lock);
	eventq->dead = true;
	raw_spin_unlock_irq(&eventq->lock);
	wake_up_all(&eventq->wait);
	iofd_eventq_put(eventq);
}

int iofd_eventq_alloc_ioctl(struct iofd_ucmd *ucmd)
{
	const u64 types = IOASID_EVENT_MASK(IOASID_EVENT_FAULT) |
			  IOASID_EVENT_MASK(IOASID_EVENT_INVAL);
	struct ioasid_eventq_alloc *cmd = ucmd->cmd;
	struct iofd_ctx *ictx = ucmd->ictx;
	struct iofd_eventq_obj *qobj;
	struct iofd_eventq *eventq;
	struct file *file;
	int fd, rc;

	if ((cmd->flags & ~IOASID_EVENTQ_NONBLOCK) ||
	    (cmd->event_mask & ~types))
		return -EOPNOTSUPP;
	if (!cmd->event_mask || !cmd->depth ||
	    cmd->depth > IOASID_EVENTQ_MAX_DEPTH)
		return -EINVAL;
	if (cmd->ioasid) {
		struct iofd_ioasid *ioasid = iofd_get_ioasid(ictx, cmd->ioasid);

		if (IS_ERR(ioasid))
			return PTR_ERR(ioasid);
		/* The filter is the ID: IDs are not reused within a context */
		iofd_put_object(&ioasid->obj);
	}

	qobj = iofd_object_alloc(ictx, qobj, IOFD_OBJ_EVENTQ);
	if (IS_ERR(qobj))
		return PTR_ERR(qobj);
	qobj->ictx = ictx;

	eventq = kzalloc(sizeof(*eventq), GFP_KERNEL_ACCOUNT);
	if (!eventq) {
		rc = -ENOMEM;
		goto err_abort;
	}
	/* Charged to the caller, as the queue's memory is its doing */
	eventq->ring = kvcalloc(cmd->depth, sizeof(*eventq->ring),
				GFP_KERNEL_ACCOUNT);
	if (!eventq->ring) {
		rc = -ENOMEM;
		goto err_free_eventq;
	}
	kref_init(&eventq->kref);
	raw_spin_lock_init(&eventq->lock);
	mutex_init(&eventq->read_lock);
	init_waitqueue_head(&eventq->wait);
	init_irq_work(&eventq->wake_work, iofd_eventq_wake);
	eventq->ioasid = cmd->ioasid;
	eventq->mask = cmd->event_mask;
	eventq->depth = cmd->depth;
	qobj->eventq = eventq;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto err_free_ring;
	}
	file = anon_inode_getfile("[ioasid-eventq]", &iofd_eventq_fops, eventq,
				  O_RDONLY | ((cmd->flags &
					       IOASID_EVENTQ_NONBLOCK) ?
					      O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto err_put_fd;
	}
	/* io_uring may read it with IOCB_NOWAIT, from the poll wakeup */
	file->f_mode |= FMODE_NOWAIT;
	/* The file's reference; the object has the one from kref_init() */
	kref_get(&eventq->kref);

	cmd->out_eventq_id = qobj->obj.id;
	cmd->out_fd = fd;
	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_fput;

	spin_lock(&ictx->eventqs_lock);
	list_add_tail_rcu(&eventq->item, &ictx->eventqs);
	spin_unlock(&ictx->eventqs_lock);
	iofd_object_finalize(ictx, &qobj->obj);
	fd_install(fd, file);
	return 0;

err_fput:
	/* Drops the file's reference; the object's goes below */
	fput(file);
	put_unused_fd(fd);
	qobj->eventq = NULL;
	iofd_eventq_put(eventq);
	goto err_abort;
err_put_fd:
	put_unused_fd(fd);
err_free_ring:
	kvfree(eventq->ring);
	mutex_destroy(&eventq->read_lock);
err_free_eventq:
	kfree(eventq);
err_abort:
	iofd_object_abort(ictx, &qobj->obj);
	return rc;
}
