// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a VMM does with /dev/ioasid to give a device to a guest, on QEMU's
 * "edu" device: ask the kernel what it offers, create an I/O address
 * space, bind the device's VFIO group to it, attach the device under a
 * label, map memory, and let the device DMA through the mapping. Then
 * unmap, and see that the device no longer reaches the memory.
 *
 * Meanwhile an event queue tells what happened, as a VMM learns it: the
 * unmap as an invalidation, and the device's blocked DMA as a fault
 * reported by the IOMMU, carrying the device's label. The queue is read
 * by one io_uring multishot read into a ring of provided buffers, so no
 * thread waits on it.
 *
 *   ioasid-demo [BDF]      (default 0000:00:01.0, bound to vfio-pci)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/*
 * The kernel's own io_uring header first: liburing 2.3 ships an older
 * copy under the same include guard, which then stays out, and the
 * newer one has IORING_OP_READ_MULTISHOT.
 */
#include <linux/io_uring.h>
#include <liburing.h>

#include <linux/ioasid_fd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* edu: DMA registers in BAR0 and its 4KiB buffer at EDU_BUF */
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_START	0x01
#define EDU_DMA_TO_RAM	0x02
#define EDU_BUF		0x40000ULL

#define IOVA		0x100000ULL	/* edu drives 28 address bits */
#define BUF_SIZE	0x10000UL
#define LABEL		0x9e57ULL	/* the VMM's name for the device */
#define BLOCKED_IOVA	(IOVA + 0x3000)	/* where the DMA after the unmap goes */

/* The event queue's reader: a ring of EVQ_NBUFS provided buffers */
#define EVQ_BGID	1
#define EVQ_NBUFS	8		/* a power of two */
#define EVQ_BUF_SIZE	4096		/* 64 records */
#define EVQ_WAIT_SEC	10		/* for each event we expect */

static const char * const cap_names[] = {
	"test",
	"events",
	"batch",
};

static int dev_fd;
static __u64 bar0;

static struct {
	int fd;
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	char *bufs;
	unsigned int completions;
	unsigned int records;
} evq;

static void die(const char *what)
{
	fprintf(stderr, "ioasid-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void reg_write(__u64 reg, __u64 val)
{
	if (pwrite(dev_fd, &val, 8, bar0 + reg) != 8)
		die("edu register write");
}

static __u64 reg_read(__u64 reg)
{
	__u64 val;

	if (pread(dev_fd, &val, 8, bar0 + reg) != 8)
		die("edu register read");
	return val;
}

/* One edu transfer between the IOVA and the device's buffer */
static void edu_dma(__u64 iova, __u64 len, int to_ram)
{
	reg_write(EDU_DMA_SRC, to_ram ? EDU_BUF : iova);
	reg_write(EDU_DMA_DST, to_ram ? iova : EDU_BUF);
	reg_write(EDU_DMA_COUNT, len);
	reg_write(EDU_DMA_CMD, EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
	while (reg_read(EDU_DMA_CMD) & EDU_DMA_START)
		sched_yield();
}

/*
 * Arm one multishot read on the queue's fd: each time records are there,
 * io_uring copies as many as fit into a buffer of the ring and posts a
 * completion naming the buffer, and the read stays armed. liburing 2.3
 * has no helper for it: a plain read, with the opcode changed.
 */
static void evq_arm(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&evq.ring);

	if (!sqe) {
		errno = EBUSY;
		die("io_uring_get_sqe");
	}
	io_uring_prep_read(sqe, evq.fd, NULL, 0, 0);
	sqe->opcode = IORING_OP_READ_MULTISHOT;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = EVQ_BGID;
	if (io_uring_submit(&evq.ring) != 1)
		die("io_uring_submit");
}

/* Give buffer @bid back to the kernel */
static void evq_recycle(unsigned int bid)
{
	io_uring_buf_ring_add(evq.br, evq.bufs + bid * EVQ_BUF_SIZE,
			      EVQ_BUF_SIZE, bid,
			      io_uring_buf_ring_mask(EVQ_NBUFS), 0);
	io_uring_buf_ring_advance(evq.br, 1);
}

static void evq_setup(int fd)
{
	struct io_uring_buf_reg reg = {
		.ring_entries = EVQ_NBUFS,
		.bgid = EVQ_BGID,
	};
	unsigned int i;
	int rc;

	evq.fd = fd;
	rc = io_uring_queue_init(8, &evq.ring, 0);
	if (rc) {
		errno = -rc;
		die("io_uring_queue_init");
	}
	/* The buffer ring must be page-aligned: mmap() it */
	evq.br = mmap(NULL, EVQ_NBUFS * sizeof(struct io_uring_buf),
		      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	evq.bufs = mmap(NULL, EVQ_NBUFS * EVQ_BUF_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (evq.br == MAP_FAILED || evq.bufs == MAP_FAILED)
		die("mmap");
	reg.ring_addr = (uintptr_t)evq.br;
	rc = io_uring_register_buf_ring(&evq.ring, &reg, 0);
	if (rc) {
		errno = -rc;
		die("io_uring_register_buf_ring");
	}
	io_uring_buf_ring_init(evq.br);
	for (i = 0; i != EVQ_NBUFS; i++)
		evq_recycle(i);
	evq_arm();
}

static const char *access_name(__u32 access)
{
	return access == IOASID_FAULT_WRITE ? "write" :
	       access == IOASID_FAULT_READ ? "read" : "access";
}

static const char *fault_reason(__u32 reason)
{
	switch (reason) {
	case IOASID_FAULT_NOT_MAPPED:
		return "nothing mapped there";
	case IOASID_FAULT_NOT_PERMITTED:
		return "not permitted by the mapping";
	default:
		return "refused";
	}
}

static const char *inval_cause(__u32 cause)
{
	switch (cause) {
	case IOASID_INVAL_UNMAP:
		return "IOASID_UNMAP";
	case IOASID_INVAL_ASYNC_UNMAP:
		return "asynchronous unmap done";
	case IOASID_INVAL_IOASID_DESTROYED:
		return "IOASID destroyed";
	case IOASID_INVAL_DEVICE_DETACHED:
		return "device detached";
	case IOASID_INVAL_DEVICE_REMOVED:
		return "device removed";
	default:
		return "unknown cause";
	}
}

static void print_event(const struct ioasid_event *e)
{
	printf("  event %llu: ", (unsigned long long)e->seq);
	switch (e->type) {
	case IOASID_EVENT_INVAL:
		printf("INVAL, IOASID %u [0x%llx, 0x%llx] no longer reachable (%s)\n",
		       e->ioasid, (unsigned long long)e->inval.iova,
		       (unsigned long long)e->inval.last,
		       inval_cause(e->inval.cause));
		break;
	case IOASID_EVENT_FAULT:
		printf("FAULT, device 0x%llx in IOASID %u: DMA %s at IOVA 0x%llx, %s",
		       (unsigned long long)e->label, e->ioasid,
		       access_name(e->fault.access),
		       (unsigned long long)e->fault.iova,
		       fault_reason(e->fault.reason));
		if (e->fault.vendor_code)
			printf(" (VT-d fault reason 0x%x)",
			       e->fault.vendor_code);
		printf("\n");
		break;
	case IOASID_EVENT_LOST:
		printf("LOST, %llu events dropped: the queue was full\n",
		       (unsigned long long)e->lost.count);
		break;
	default:
		printf("type %u\n", e->type);
		break;
	}
}

/*
 * Wait up to EVQ_WAIT_SEC for a record of @type, printing every record
 * that arrives meanwhile; copy it to @out. Returns 0, or -1 if none came.
 */
static int evq_wait(__u16 type, struct ioasid_event *out)
{
	struct timespec now, end;
	int found = 0;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += EVQ_WAIT_SEC;
	while (!found) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		unsigned int bid, i, n;
		const struct ioasid_event *e;
		long long ns;
		int rc;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ns = (end.tv_sec - now.tv_sec) * 1000000000LL +
		     end.tv_nsec - now.tv_nsec;
		if (ns <= 0)
			return -1;
		ts.tv_sec = ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		rc = io_uring_wait_cqe_timeout(&evq.ring, &cqe, &ts);
		if (rc == -ETIME)
			return -1;
		if (rc) {
			errno = -rc;
			die("io_uring_wait_cqe_timeout");
		}
		if (cqe->res < 0 && cqe->res != -ENOBUFS) {
			errno = -cqe->res;
			die("multishot read of the event queue");
		}
		if (cqe->res == 0) {
			errno = EPIPE;
			die("the event queue ended");
		}
		if (cqe->res > 0) {
			evq.completions++;
			bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			n = cqe->res / IOASID_EVENT_SIZE;
			e = (const void *)(evq.bufs + bid * EVQ_BUF_SIZE);
			for (i = 0; i != n; i++, e++) {
				print_event(e);
				evq.records++;
				if (!found && e->type == type) {
					*out = *e;
					found = 1;
				}
			}
			evq_recycle(bid);
		}
		/* Out of buffers, or stopped for another reason: re-arm */
		if (!(cqe->flags & IORING_CQE_F_MORE))
			evq_arm();
		io_uring_cqe_seen(&evq.ring, cqe);
	}
	return 0;
}

/* How many io_uring worker threads ("iou-wrk-<pid>") this process has */
static int io_workers(void)
{
	char path[PATH_MAX], comm[32];
	struct dirent *de;
	int n = 0;
	DIR *d;
	FILE *f;

	d = opendir("/proc/self/task");
	if (!d)
		die("/proc/self/task");
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, "iou-wrk-", 8))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static int open_group(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t len;
	char *slash;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		die(path);
	link[len] = 0;
	slash = strrchr(link, '/');
	/* A group is a number */
	snprintf(path, sizeof(path), "/dev/vfio/%.32s", slash ? slash + 1 : link);
	return open(path, O_RDWR);
}

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : "0000:00:01.0";
	struct ioasid_info info = { .size = sizeof(info) };
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_iova_range ranges[8];
	struct ioasid_iova_ranges iova_ranges = {
		.size = sizeof(iova_ranges),
		.num_ranges = ARRAY_SIZE(ranges),
		.ranges = (uintptr_t)ranges,
	};
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
	struct ioasid_map map = { .size = sizeof(map) };
	struct ioasid_unmap unmap = { .size = sizeof(unmap) };
	static const char msg[] = "DMA through an I/O page table the VMM owns";
	struct ioasid_event inval, fault;
	int fd, group_fd, ok, workers;
	__u16 command;
	unsigned int i;
	char *buf;

	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/ioasid");
	if (ioctl(fd, IOASID_INFO, &info))
		die("IOASID_INFO");
	printf("/dev/ioasid: API version %u, capabilities 0x%llx",
	       info.out_api_version,
	       (unsigned long long)info.out_capabilities);
	for (i = 0; i != ARRAY_SIZE(cap_names); i++)
		if (info.out_capabilities & (1ULL << i))
			printf(" %s", cap_names[i]);
	printf("\n");
	if (!(info.out_capabilities & IOASID_CAP_EVENTS)) {
		fprintf(stderr, "ioasid-demo: this kernel has no event queues\n");
		return 1;
	}

	if (ioctl(fd, IOASID_ALLOC, &alloc))
		die("IOASID_ALLOC");
	printf("IOASID %u allocated\n", alloc.out_ioasid);

	group_fd = open_group(bdf);
	if (group_fd < 0)
		die("open the VFIO group (is the device bound to vfio-pci?)");
	bind.ioasid_fd = fd;
	if (ioctl(group_fd, VFIO_GROUP_BIND_IOASID_FD, &bind)) {
		if (bind.out_dev_name[0])
			fprintf(stderr, "ioasid-demo: %s is in the way\n",
				bind.out_dev_name);
		die("VFIO_GROUP_BIND_IOASID_FD");
	}
	dev_fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev_fd < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	attach.ioasid = alloc.out_ioasid;
	if (ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOASID, &attach))
		die("VFIO_DEVICE_ATTACH_IOASID");
	printf("%s: group bound, device attached with label 0x%llx\n", bdf,
	       (unsigned long long)LABEL);

	iova_ranges.ioasid = alloc.out_ioasid;
	if (ioctl(fd, IOASID_IOVA_RANGES, &iova_ranges))
		die("IOASID_IOVA_RANGES");
	for (i = 0; i != iova_ranges.num_ranges; i++)
		printf("usable IOVA [0x%llx, 0x%llx]\n",
		       (unsigned long long)ranges[i].start,
		       (unsigned long long)ranges[i].last);

	/* What happens to the IOASID from now on is queued for us */
	eventq.ioasid = alloc.out_ioasid;
	if (ioctl(fd, IOASID_EVENTQ_ALLOC, &eventq))
		die("IOASID_EVENTQ_ALLOC");
	evq_setup(eventq.out_fd);
	printf("event queue %u: faults and invalidations of IOASID %u,",
	       eventq.out_eventq_id, alloc.out_ioasid);
	printf(" read by an io_uring multishot read\n");

	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	memset(buf, 0, BUF_SIZE);
	map.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ | IOASID_MAP_WRITE;
	map.ioasid = alloc.out_ioasid;
	map.user_va = (uintptr_t)buf;
	map.length = BUF_SIZE;
	map.iova = IOVA;
	if (ioctl(fd, IOASID_MAP, &map))
		die("IOASID_MAP");
	printf("mapped %lu KiB at IOVA 0x%llx\n", BUF_SIZE / 1024, IOVA);

	/* Bus master on, then a round trip: RAM -> device -> RAM */
	region.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &region) ||
	    pread(dev_fd, &command, 2, region.offset + PCI_COMMAND) != 2)
		die("PCI config");
	command |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(dev_fd, &command, 2, region.offset + PCI_COMMAND) != 2)
		die("PCI config");
	region.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &region))
		die("BAR0");
	bar0 = region.offset;

	memcpy(buf, msg, sizeof(msg));
	edu_dma(IOVA, sizeof(msg), 0);
	edu_dma(IOVA + 0x2000, sizeof(msg), 1);
	ok = !memcmp(buf + 0x2000, msg, sizeof(msg));
	printf("device DMA round trip: %s (\"%s\")\n", ok ? "ok" : "FAILED",
	       buf + 0x2000);

	unmap.ioasid = alloc.out_ioasid;
	unmap.iova = IOVA;
	unmap.length = BUF_SIZE;
	if (ioctl(fd, IOASID_UNMAP, &unmap))
		die("IOASID_UNMAP");
	printf("IOASID_UNMAP: %llu bytes unmapped\n",
	       (unsigned long long)unmap.out_length);
	if (evq_wait(IOASID_EVENT_INVAL, &inval)) {
		printf("no INVAL event within %d s\n", EVQ_WAIT_SEC);
		ok = 0;
	} else if (inval.inval.iova != IOVA ||
		   inval.inval.last != IOVA + BUF_SIZE - 1 ||
		   inval.inval.cause != IOASID_INVAL_UNMAP) {
		printf("  ... which is not the range unmapped\n");
		ok = 0;
	}

	/* The device writes to RAM at an IOVA that is gone */
	memset(buf + 0x3000, 0, sizeof(msg));
	edu_dma(BLOCKED_IOVA, sizeof(msg), 1);
	printf("device DMA to IOVA 0x%llx: %s\n", BLOCKED_IOVA,
	       buf[0x3000] ? "REACHED memory" :
	       "blocked by the IOMMU, memory unchanged");
	ok = ok && !buf[0x3000];
	if (evq_wait(IOASID_EVENT_FAULT, &fault)) {
		printf("no FAULT event within %d s\n", EVQ_WAIT_SEC);
		ok = 0;
	} else if (fault.label != LABEL || fault.ioasid != alloc.out_ioasid ||
		   fault.fault.iova != BLOCKED_IOVA ||
		   fault.fault.access != IOASID_FAULT_WRITE) {
		printf("  ... which is not the DMA the device did\n");
		ok = 0;
	}

	workers = io_workers();
	printf("%u events in %u io_uring completions, %s\n", evq.records,
	       evq.completions,
	       workers ? "but io_uring started worker threads" :
	       "and no io_uring worker thread (no iou-wrk- task)");
	ok = ok && !workers;

	io_uring_queue_exit(&evq.ring);
	close(evq.fd);
	close(dev_fd);
	close(group_fd);
	close(fd);
	return ok ? 0 : 1;
}
