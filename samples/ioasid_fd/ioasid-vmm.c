// SPDX-License-Identifier: GPL-2.0-only
/*
 * The /dev/ioasid steps of a VMM that gives a device to its guest, in the
 * order a VMM takes them, on QEMU's "edu" device (ioasid-demo.c shows
 * each call alone). The guest is a script: its RAM is a memfd, laid out
 * like a small x86 guest's (low RAM, a hole, two hotplugged DIMMs), and
 * its requests ("device, copy these bytes from A to B", "I unplug this
 * DIMM") reach the VMM through an eventfd, as a doorbell does. One
 * io_uring loop, with no thread beside it, serves them and reads the
 * IOASID's event queue, as a VMM's main loop would:
 *
 *  1. attach the device to an IOASID under a label, the VMM's name for
 *     the device in the records of its event queue;
 *  2. map guest RAM at its guest physical addresses: the guest programs
 *     the device with the addresses it knows, and the IOMMU translates;
 *  3. run the guest's DMA jobs and check the data in guest RAM;
 *  4. unplug a DIMM with an asynchronous unmap, done when the event queue
 *     says that no device can reach its memory any more;
 *  5. watch the device's next DMA into that DIMM refused by the IOMMU
 *     and reported as a fault that names the device by its label;
 *  6. detach, unbind, close, and check that nothing stays pinned.
 *
 *   ioasid-vmm [-d BDF] [-q]
 *	-d  the edu to use, bound to vfio-pci (default 0000:00:01.0)
 *	-q  print nothing but errors
 *
 * It exits 0 only if every step did what it should.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/*
 * The kernel's io_uring header first: liburing 2.3 carries an older copy
 * under the same include guard, which then stays out; the kernel's has
 * IORING_OP_READ_MULTISHOT.
 */
#include <linux/io_uring.h>
#include <liburing.h>

#include <linux/ioasid_fd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MiB (1024 * 1024ULL)
#define PAGE_MASK (~0xfffULL)

/* edu: DMA registers in BAR0, and its 4KiB buffer at EDU_BUF */
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_START	0x01
#define EDU_DMA_TO_RAM	0x02
#define EDU_BUF		0x40000ULL
#define EDU_DMA_MS	5000	/* the most one transfer may take */

#define LABEL		0x6e6963ULL	/* any number unique in the fd */
#define LABEL_NAME	"nic"
#define WAIT_SEC	10		/* for anything the guest waits for */

/* The event queue's reader: a ring of EVQ_NBUFS provided buffers */
#define EVQ_BGID	1
#define EVQ_NBUFS	8		/* a power of two */
#define EVQ_BUF_SIZE	4096		/* 64 records */

enum { UD_EVQ = 1, UD_DOORBELL };

/*
 * Guest RAM: one memfd, mapped into the IOASID slot by slot, each at its
 * guest physical address. The edu drives 28 address bits, so all of it
 * sits below 256MiB; the hole is where a real guest has its PCI devices.
 */
struct slot {
	const char *name;
	__u64 gpa;
	__u64 size;
	__u64 offset;		/* in the memfd */
	bool mapped;
};

static struct slot slots[] = {
	{ "low RAM", 0x0, 32 * MiB, 0 },
	{ "DIMM 0", 0x4000000, 16 * MiB, 32 * MiB },
	{ "DIMM 1", 0x5000000, 16 * MiB, 48 * MiB },
};

#define GUEST_RAM (64 * MiB)

/*
 * The guest's script. The guest posts jobs up to one marked "wait", then
 * waits for that one: it unplugs DIMM 1 only once its DMA is done, and it
 * goes on only once the VMM says the unplug is complete, as a guest
 * waits for ACPI's eject. Transfers stay under the 4KiB edu buffer.
 */
enum job_type { JOB_COPY, JOB_UNPLUG };

struct job {
	enum job_type type;
	__u64 src, dst;		/* guest physical addresses */
	__u32 len;
	int slot;		/* JOB_UNPLUG */
	bool wait;
};

static const struct job script[] = {
	{ JOB_COPY, 0x10000, 0x20000, 3000 },
	{ JOB_COPY, 0x30000, 0x4001000, 3000 },
	{ JOB_COPY, 0x4003000, 0x5002000, 3000, .wait = true },
	{ JOB_UNPLUG, .slot = 2, .wait = true },
	/* DIMM 1 is gone, but the guest (a buggy one) DMAs into it */
	{ JOB_COPY, 0x40000, 0x5004000, 3000 },
};

static struct {
	bool quiet;
	int failures;
	const char *bdf;

	int memfd;
	char *ram;		/* the VMM's view of guest RAM */

	int fd;			/* /dev/ioasid */
	__u32 ioasid;
	int group_fd, dev_fd;
	__u64 bar0;		/* offset of BAR0 in dev_fd */

	struct io_uring ring;
	int evq_fd;
	struct io_uring_buf_ring *br;
	char *bufs;
	bool evq_ended;		/* read() returned end of file */

	int doorbell;		/* eventfd: the guest posted jobs */
	__u64 doorbell_val;
	unsigned int posted;	/* jobs of script[] the guest posted */
	unsigned int done;	/* jobs run, in order */
	int waiting;		/* the job the guest waits for, or -1 */
	int unplugging;		/* the JOB_UNPLUG in flight, or -1 */
	__u64 fault_iova;	/* the fault we expect, or 0 */
} vmm = {
	.bdf = "0000:00:01.0",
	.memfd = -1, .fd = -1, .group_fd = -1, .dev_fd = -1, .evq_fd = -1,
	.doorbell = -1, .waiting = -1, .unplugging = -1,
};

#define say(fmt, ...)                                                        \
	do {                                                                 \
		if (!vmm.quiet)                                              \
			printf("vmm: " fmt "\n", ##__VA_ARGS__);             \
	} while (0)

static void die(const char *what)
{
	fprintf(stderr, "ioasid-vmm: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* liburing returns -errno */
static void check(int rc, const char *what)
{
	errno = -rc;
	if (rc < 0)
		die(what);
}

/* A step that did not do what it should: say so, go on, exit 1 */
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ioasid-vmm: FAILED: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	vmm.failures++;
}

/* The kB this process has pinned (mm->pinned_vm), as /proc reports it */
static long vm_pinned_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The slot that holds [gpa, gpa + len), mapped or not; NULL if none */
static struct slot *slot_of(__u64 gpa, __u64 len)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(slots); i++)
		if (gpa >= slots[i].gpa &&
		    gpa + len <= slots[i].gpa + slots[i].size)
			return &slots[i];
	return NULL;
}

static char *gpa_to_hva(__u64 gpa)
{
	struct slot *s = slot_of(gpa, 1);

	return vmm.ram + s->offset + (gpa - s->gpa);
}

/* A record names a device by its label: back to the VMM's device */
static const char *device_name(__u64 label)
{
	return label == LABEL ? LABEL_NAME : "?";
}

static void reg_write(__u64 reg, __u64 val)
{
	if (pwrite(vmm.dev_fd, &val, 8, vmm.bar0 + reg) != 8)
		die("edu register write");
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/*
 * One edu transfer between guest RAM at @gpa and the device's buffer.
 * As in ioasid-demo.c, completion is the device clearing its busy bit,
 * polled with a bound. A VMM would rather have VFIO_DEVICE_SET_IRQS
 * signal the device's interrupt on an eventfd, and read that through
 * this same ring, like the doorbell.
 */
static int edu_dma(__u64 gpa, __u32 len, bool to_ram)
{
	__u64 deadline = now_ms() + EDU_DMA_MS, cmd;

	reg_write(EDU_DMA_SRC, to_ram ? EDU_BUF : gpa);
	reg_write(EDU_DMA_DST, to_ram ? gpa : EDU_BUF);
	reg_write(EDU_DMA_COUNT, len);
	reg_write(EDU_DMA_CMD, EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
	do {
		if (pread(vmm.dev_fd, &cmd, 8, vmm.bar0 + EDU_DMA_CMD) != 8)
			die("edu register read");
		if (!(cmd & EDU_DMA_START))
			return 0;
		sched_yield();
	} while (now_ms() < deadline);
	return -1;
}

/*
 * One multishot read of the event queue serves the whole run: each time
 * records are queued, io_uring copies what fits into one buffer of the
 * ring and posts a completion naming it, and the read stays armed.
 * liburing 2.3 has no helper for it: a plain read, with the opcode
 * changed.
 */
static void evq_arm(void)
{
	/* Two requests at most are in flight: the ring never runs out */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&vmm.ring);

	io_uring_prep_read(sqe, vmm.evq_fd, NULL, 0, 0);
	sqe->opcode = IORING_OP_READ_MULTISHOT;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = EVQ_BGID;
	io_uring_sqe_set_data64(sqe, UD_EVQ);
}

/* A new read of the doorbell: it completes when the guest rings */
static void doorbell_arm(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&vmm.ring);

	io_uring_prep_read(sqe, vmm.doorbell, &vmm.doorbell_val,
			   sizeof(vmm.doorbell_val), 0);
	io_uring_sqe_set_data64(sqe, UD_DOORBELL);
}

/* Give buffer @bid back to the kernel */
static void evq_recycle(unsigned int bid)
{
	io_uring_buf_ring_add(vmm.br, vmm.bufs + bid * EVQ_BUF_SIZE,
			      EVQ_BUF_SIZE, bid,
			      io_uring_buf_ring_mask(EVQ_NBUFS), 0);
	io_uring_buf_ring_advance(vmm.br, 1);
}

static void loop_setup(void)
{
	struct io_uring_buf_reg reg = {
		.ring_entries = EVQ_NBUFS,
		.bgid = EVQ_BGID,
	};
	unsigned int i;

	check(io_uring_queue_init(8, &vmm.ring, 0), "io_uring_queue_init");
	/* The buffer ring must be page-aligned: mmap() it */
	vmm.br = mmap(NULL, EVQ_NBUFS * sizeof(struct io_uring_buf),
		      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	vmm.bufs = mmap(NULL, EVQ_NBUFS * EVQ_BUF_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vmm.br == MAP_FAILED || vmm.bufs == MAP_FAILED)
		die("mmap");
	reg.ring_addr = (uintptr_t)vmm.br;
	check(io_uring_register_buf_ring(&vmm.ring, &reg, 0),
	      "io_uring_register_buf_ring");
	io_uring_buf_ring_init(vmm.br);
	for (i = 0; i != EVQ_NBUFS; i++)
		evq_recycle(i);
	evq_arm();
	doorbell_arm();
	if (io_uring_submit(&vmm.ring) != 2)
		die("io_uring_submit");
	say("main loop: one io_uring, reading the event queue (multishot) and the doorbell");
}

/* The guest posts its next jobs, up to one it waits for, and rings */
static void guest_run(void)
{
	unsigned int n = vmm.posted, i;
	__u64 one = 1;

	while (vmm.waiting < 0 && vmm.posted != ARRAY_SIZE(script)) {
		const struct job *j = &script[vmm.posted];

		/* The data the guest asks to copy; never a zero byte */
		for (i = 0; j->type == JOB_COPY && i != j->len; i++)
			gpa_to_hva(j->src)[i] = (char)(0x80 | ((vmm.posted * 31 + i) & 0x7f));
		if (j->wait)
			vmm.waiting = vmm.posted;
		vmm.posted++;
	}
	if (vmm.posted != n && write(vmm.doorbell, &one, 8) != 8)
		die("eventfd write");
}

/* A job the guest waited for is done: it goes on */
static void job_complete(unsigned int n)
{
	if (vmm.waiting == (int)n) {
		vmm.waiting = -1;
		guest_run();
	}
}

static void run_copy(unsigned int n, const struct job *j)
{
	struct slot *dst = slot_of(j->dst, j->len);
	static char before[4096], data[4096];
	bool landed;

	memcpy(data, gpa_to_hva(j->src), j->len);
	memcpy(before, gpa_to_hva(j->dst), j->len);
	if (edu_dma(j->src, j->len, false) || edu_dma(j->dst, j->len, true)) {
		fail("job %u: the edu did not finish its DMA", n + 1);
		return;
	}
	landed = !memcmp(gpa_to_hva(j->dst), data, j->len);
	if (dst && dst->mapped) {
		say("job %u: copied %u bytes 0x%llx -> 0x%llx, data %s", n + 1,
		    j->len, (unsigned long long)j->src,
		    (unsigned long long)j->dst, landed ? "ok" : "WRONG");
		if (!landed)
			fail("job %u: the data did not arrive", n + 1);
		return;
	}

	/*
	 * Not guest RAM any more: the IOMMU must have refused the write,
	 * which leaves memory as it was and queues a fault record.
	 */
	landed = memcmp(gpa_to_hva(j->dst), before, j->len);
	say("job %u: copy %u bytes 0x%llx -> 0x%llx: not guest RAM, memory %s",
	    n + 1, j->len, (unsigned long long)j->src,
	    (unsigned long long)j->dst, landed ? "CHANGED" : "unchanged");
	if (landed)
		fail("job %u: DMA reached memory that is not mapped", n + 1);
	vmm.fault_iova = j->dst & PAGE_MASK;
}

/*
 * Unplugging: out of the IOASID now, but the IOTLB flush and the unpin
 * come later, batched with any other pending unmap. Until the event
 * with our cookie arrives a device may still reach the DIMM, so the
 * unplug completes (and the memory could go back to the host) only then.
 */
static void run_unplug(unsigned int n, const struct job *j)
{
	struct slot *s = &slots[j->slot];
	struct ioasid_unmap unmap = {
		.size = sizeof(unmap),
		.flags = IOASID_UNMAP_ASYNC,
		.ioasid = vmm.ioasid,
		.iova = s->gpa,
		.length = s->size,
		.cookie = n + 1,
	};

	if (ioctl(vmm.fd, IOASID_UNMAP, &unmap))
		die("IOASID_UNMAP");
	s->mapped = false;
	vmm.unplugging = n;
	say("job %u: guest unplugs %s: IOASID_UNMAP_ASYNC of 0x%llx-0x%llx, cookie %u",
	    n + 1, s->name, (unsigned long long)s->gpa,
	    (unsigned long long)(s->gpa + s->size - 1), n + 1);
}

/* The doorbell rang: run every job the guest posted, in order */
static void run_jobs(void)
{
	while (vmm.done != vmm.posted) {
		unsigned int n = vmm.done++;

		if (script[n].type == JOB_UNPLUG) {
			run_unplug(n, &script[n]);
			continue;
		}
		run_copy(n, &script[n]);
		job_complete(n);
	}
}

static void on_unplugged(const struct ioasid_event *e)
{
	const struct job *j = &script[vmm.unplugging];
	struct slot *s = &slots[j->slot];
	long pinned = vm_pinned_kb();

	say("event: INVALIDATE iova 0x%llx-0x%llx, cookie %llu: %s unplugged, %llu MiB unpinned",
	    (unsigned long long)e->inval.iova,
	    (unsigned long long)e->inval.last,
	    (unsigned long long)e->inval.cookie, s->name, s->size / MiB);
	if (e->inval.iova != s->gpa || e->inval.last != s->gpa + s->size - 1)
		fail("the invalidation is not the range unplugged");
	if (pinned != (long)((GUEST_RAM - s->size) / 1024))
		fail("%ld kB pinned after the unplug", pinned);
	vmm.unplugging = -1;
	job_complete(e->inval.cookie - 1);
}

static void on_fault(const struct ioasid_event *e)
{
	struct slot *s = slot_of(e->fault.iova, 1);

	say("event: FAULT label \"%s\" iova 0x%llx %s, not guest RAM (%s%s), VT-d reason 0x%x",
	    device_name(e->label), (unsigned long long)e->fault.iova,
	    e->fault.access == IOASID_FAULT_WRITE ? "write" : "read",
	    s ? "unplugged " : "a hole", s ? s->name : "",
	    e->fault.vendor_code);
	if (e->label != LABEL || e->ioasid != vmm.ioasid ||
	    e->fault.iova != vmm.fault_iova ||
	    e->fault.access != IOASID_FAULT_WRITE)
		fail("not the fault of the DMA the device did");
	vmm.fault_iova = 0;
}

static bool story_done(void)
{
	return vmm.done == ARRAY_SIZE(script) && vmm.unplugging < 0 &&
	       !vmm.fault_iova;
}

/* What the records tell us; detach and destroy come only at the end */
static void on_event(const struct ioasid_event *e)
{
	if (e->type == IOASID_EVENT_FAULT && vmm.fault_iova)
		on_fault(e);
	else if (e->type == IOASID_EVENT_INVAL && vmm.unplugging >= 0 &&
		 e->inval.cause == IOASID_INVAL_ASYNC_UNMAP &&
		 e->inval.cookie == (__u64)vmm.unplugging + 1)
		on_unplugged(e);
	else if (e->type == IOASID_EVENT_INVAL && story_done() &&
		 e->inval.cause == IOASID_INVAL_DEVICE_DETACHED)
		say("event: INVALIDATE all of IOASID %u for \"%s\": detached",
		    e->ioasid, device_name(e->label));
	else if (e->type == IOASID_EVENT_INVAL && story_done() &&
		 e->inval.cause == IOASID_INVAL_IOASID_DESTROYED)
		say("event: INVALIDATE all of IOASID %u: destroyed", e->ioasid);
	else
		fail("unexpected event: type %u, IOASID %u, label 0x%llx",
		     e->type, e->ioasid, (unsigned long long)e->label);
}

/*
 * Wait for one completion and handle it. Returns false if nothing
 * happened within WAIT_SEC.
 */
static bool loop_once(void)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_SEC };
	struct io_uring_cqe *cqe;
	unsigned int bid, i;
	int rc, res;

	rc = io_uring_wait_cqe_timeout(&vmm.ring, &cqe, &ts);
	if (rc == -ETIME)
		return false;
	check(rc, "io_uring_wait_cqe_timeout");
	res = cqe->res;
	if (cqe->user_data == UD_DOORBELL) {
		check(res, "doorbell read");
		io_uring_cqe_seen(&vmm.ring, cqe);
		doorbell_arm();
		run_jobs();
	} else {
		if (res != -ENOBUFS)
			check(res, "multishot read of the event queue");
		if (res > 0) {
			const struct ioasid_event *e;

			bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			e = (const void *)(vmm.bufs + bid * EVQ_BUF_SIZE);
			for (i = 0; i != res / IOASID_EVENT_SIZE; i++)
				on_event(&e[i]);
			evq_recycle(bid);
		}
		if (res == 0)
			vmm.evq_ended = true;
		/* Out of buffers, or another reason to stop: re-arm */
		else if (!(cqe->flags & IORING_CQE_F_MORE))
			evq_arm();
		io_uring_cqe_seen(&vmm.ring, cqe);
	}
	io_uring_submit(&vmm.ring);
	return true;
}

static void open_device(void)
{
	struct ioasid_info info = { .size = sizeof(info) };
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_eventq_alloc eventq = {
		.size = sizeof(eventq),
		.depth = 64,
		.event_mask = IOASID_EVENT_MASK(IOASID_EVENT_FAULT) |
			      IOASID_EVENT_MASK(IOASID_EVENT_INVAL),
	};
	struct vfio_group_bind_ioasid_fd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_ioasid attach = {
		.argsz = sizeof(attach),
		.label = LABEL,
	};
	struct vfio_region_info region = { .argsz = sizeof(region) };
	char path[PATH_MAX], link[PATH_MAX];
	__u32 id;
	__u16 command;
	ssize_t len;

	vmm.fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (vmm.fd < 0)
		die("open /dev/ioasid");
	if (ioctl(vmm.fd, IOASID_INFO, &info))
		die("IOASID_INFO");
	if ((info.out_capabilities & (IOASID_CAP_EVENTS | IOASID_CAP_BATCH)) !=
	    (IOASID_CAP_EVENTS | IOASID_CAP_BATCH)) {
		fprintf(stderr, "ioasid-vmm: needs event queues and IOASID_BATCH\n");
		exit(1);
	}
	if (ioctl(vmm.fd, IOASID_ALLOC, &alloc))
		die("IOASID_ALLOC");
	vmm.ioasid = alloc.out_ioasid;

	/* From now on, what happens to the IOASID is queued for the loop */
	eventq.ioasid = vmm.ioasid;
	if (ioctl(vmm.fd, IOASID_EVENTQ_ALLOC, &eventq))
		die("IOASID_EVENTQ_ALLOC");
	vmm.evq_fd = eventq.out_fd;

	/* The group's DMA goes to the ioasid fd: no VFIO container */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 vmm.bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		die(path);
	link[len] = 0;
	/* A group is a number */
	snprintf(path, sizeof(path), "/dev/vfio/%.32s", strrchr(link, '/') + 1);
	vmm.group_fd = open(path, O_RDWR);
	if (vmm.group_fd < 0)
		die("open the VFIO group (is the device bound to vfio-pci?)");
	bind.ioasid_fd = vmm.fd;
	if (ioctl(vmm.group_fd, VFIO_GROUP_BIND_IOASID_FD, &bind)) {
		if (bind.out_dev_name[0])
			fprintf(stderr, "ioasid-vmm: %s is in the way\n",
				bind.out_dev_name);
		die("VFIO_GROUP_BIND_IOASID_FD");
	}
	vmm.dev_fd = ioctl(vmm.group_fd, VFIO_GROUP_GET_DEVICE_FD, vmm.bdf);
	if (vmm.dev_fd < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");

	/* The label is how the event queue will name this device */
	attach.ioasid = vmm.ioasid;
	if (ioctl(vmm.dev_fd, VFIO_DEVICE_ATTACH_IOASID, &attach))
		die("VFIO_DEVICE_ATTACH_IOASID");
	say("edu %s attached to IOASID %u as label 0x%llx (\"%s\")", vmm.bdf,
	    vmm.ioasid, LABEL, LABEL_NAME);

	/*
	 * This program knows the edu's registers and no other device's;
	 * then memory decoding and bus mastering on, and where BAR0 is.
	 */
	region.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(vmm.dev_fd, VFIO_DEVICE_GET_REGION_INFO, &region) ||
	    pread(vmm.dev_fd, &id, 4, region.offset + PCI_VENDOR_ID) != 4 ||
	    pread(vmm.dev_fd, &command, 2, region.offset + PCI_COMMAND) != 2)
		die("PCI config");
	if (id != 0x11e81234) {
		fprintf(stderr, "ioasid-vmm: %s is not an edu (1234:11e8)\n",
			vmm.bdf);
		exit(1);
	}
	command |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(vmm.dev_fd, &command, 2, region.offset + PCI_COMMAND) != 2)
		die("PCI config");
	region.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(vmm.dev_fd, VFIO_DEVICE_GET_REGION_INFO, &region))
		die("BAR0");
	vmm.bar0 = region.offset;
}

/*
 * The guest's memory map must fit what the IOMMU translates, minus what
 * it reserves (on x86 the MSI window at 0xfee00000, which is why guests
 * have a hole there too): ask, now that the device narrowed it.
 */
static void check_iova_ranges(void)
{
	struct ioasid_iova_range ranges[16];
	struct ioasid_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioasid = vmm.ioasid,
		.num_ranges = ARRAY_SIZE(ranges),
		.ranges = (uintptr_t)ranges,
	};
	unsigned int i, k;

	if (ioctl(vmm.fd, IOASID_IOVA_RANGES, &cmd))
		die("IOASID_IOVA_RANGES");
	for (i = 0; i != ARRAY_SIZE(slots); i++) {
		for (k = 0; k != cmd.num_ranges; k++)
			if (slots[i].gpa >= ranges[k].start &&
			    slots[i].gpa + slots[i].size - 1 <= ranges[k].last)
				break;
		if (k == cmd.num_ranges) {
			fprintf(stderr, "ioasid-vmm: %s at 0x%llx is not usable IOVA\n",
				slots[i].name, (unsigned long long)slots[i].gpa);
			exit(1);
		}
	}
}

/*
 * Boot RAM is mapped by itself; the DIMMs come as one transaction, in one
 * IOASID_BATCH: one mapping sync for both, as a VMM's memory listener
 * commits a whole change of the memory map.
 */
static void map_guest_ram(void)
{
	struct ioasid_batch_op ops[2];
	struct ioasid_batch batch = {
		.size = sizeof(batch),
		.num_ops = ARRAY_SIZE(ops),
		.op_size = sizeof(ops[0]),
		.ops = (uintptr_t)ops,
	};
	struct ioasid_map map = {
		.size = sizeof(map),
		.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ |
			 IOASID_MAP_WRITE,
		.ioasid = vmm.ioasid,
	};
	unsigned int i;
	long pinned;

	vmm.memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (vmm.memfd < 0 || ftruncate(vmm.memfd, GUEST_RAM))
		die("memfd");
	vmm.ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vmm.memfd, 0);
	if (vmm.ram == MAP_FAILED)
		die("mmap guest RAM");

	map.user_va = (uintptr_t)vmm.ram + slots[0].offset;
	map.length = slots[0].size;
	map.iova = slots[0].gpa;
	if (ioctl(vmm.fd, IOASID_MAP, &map))
		die("IOASID_MAP");
	slots[0].mapped = true;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i != ARRAY_SIZE(ops); i++) {
		struct slot *s = &slots[i + 1];

		ops[i].op = IOASID_BATCH_MAP;
		ops[i].flags = map.flags;
		ops[i].ioasid = vmm.ioasid;
		ops[i].user_va = (uintptr_t)vmm.ram + s->offset;
		ops[i].length = s->size;
		ops[i].iova = s->gpa;
		s->mapped = true;
	}
	if (ioctl(vmm.fd, IOASID_BATCH, &batch))
		die("IOASID_BATCH");

	pinned = vm_pinned_kb();
	say("guest RAM %llu MiB at its guest addresses: %s 0x%llx, %s 0x%llx, %s 0x%llx",
	    GUEST_RAM / MiB, slots[0].name, (unsigned long long)slots[0].gpa,
	    slots[1].name, (unsigned long long)slots[1].gpa,
	    slots[2].name, (unsigned long long)slots[2].gpa);
	say("guest RAM pinned: %ld kB (the DIMMs mapped by one IOASID_BATCH)",
	    pinned);
	if (pinned != (long)(GUEST_RAM / 1024))
		fail("%ld kB pinned, not all of guest RAM", pinned);
}

/*
 * Give the device back and let go of the IOASID. Each step is what the
 * kernel would do at exit anyway; done by hand, the queue shows them.
 */
static void shut_down(void)
{
	struct vfio_device_detach_ioasid detach = { .argsz = sizeof(detach) };
	struct vfio_group_unbind_ioasid_fd unbind = { .argsz = sizeof(unbind) };
	long pinned;

	if (ioctl(vmm.dev_fd, VFIO_DEVICE_DETACH_IOASID, &detach))
		die("VFIO_DEVICE_DETACH_IOASID");
	/* The group must have no device fd open to be unbound */
	close(vmm.dev_fd);
	if (ioctl(vmm.group_fd, VFIO_GROUP_UNBIND_IOASID_FD, &unbind))
		die("VFIO_GROUP_UNBIND_IOASID_FD");
	close(vmm.group_fd);
	/* Destroys the IOASID, unpins guest RAM; with no group bound, ends the queue */
	close(vmm.fd);
	while (!vmm.evq_ended)
		if (!loop_once()) {
			fail("the event queue did not end after the close");
			break;
		}
	say("device detached, group unbound, /dev/ioasid closed: the event queue ended");

	/* The buffer ring's own pages are pinned: unpin them before exit */
	io_uring_unregister_buf_ring(&vmm.ring, EVQ_BGID);
	io_uring_queue_exit(&vmm.ring);
	close(vmm.evq_fd);
	close(vmm.doorbell);
	munmap(vmm.ram, GUEST_RAM);
	close(vmm.memfd);

	pinned = vm_pinned_kb();
	if (pinned)
		fail("%ld kB still pinned", pinned);
	else if (!vmm.failures)
		say("clean exit, 0 pages pinned");
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "d:q")) != -1) {
		switch (opt) {
		case 'd':
			vmm.bdf = optarg;
			break;
		case 'q':
			vmm.quiet = true;
			break;
		default:
			fprintf(stderr, "usage: ioasid-vmm [-d BDF] [-q]\n");
			return 2;
		}
	}
	/* Lines in order with the errors, even into a pipe */
	setvbuf(stdout, NULL, _IOLBF, 0);

	open_device();
	check_iova_ranges();
	map_guest_ram();

	vmm.doorbell = eventfd(0, EFD_CLOEXEC);
	if (vmm.doorbell < 0)
		die("eventfd");
	loop_setup();

	guest_run();
	while (!story_done())
		if (!loop_once()) {
			fail("nothing happened for %d s: %s", WAIT_SEC,
			     vmm.unplugging >= 0 ? "no invalidation for the unplug" :
			     vmm.fault_iova ? "no fault record" : "stuck");
			break;
		}

	shut_down();
	return vmm.failures ? 1 : 0;
}
