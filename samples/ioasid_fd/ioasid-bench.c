// SPDX-License-Identifier: GPL-2.0-only
/*
 * What it costs to map and unmap memory for a device's DMA, through the
 * three interfaces a VMM can use, on the same device in the same boot:
 *
 *   type1    a VFIO container with VFIO_TYPE1v2_IOMMU (MAP_DMA/UNMAP_DMA)
 *   iommufd  the device's VFIO cdev bound to /dev/iommu (IOAS_MAP/UNMAP)
 *   ioasid   the device's group bound to /dev/ioasid (IOASID_MAP/UNMAP,
 *            and IOASID_BATCH when IOASID_INFO offers it)
 *
 * and, as the floor under both MAP and UNMAP, what pinning alone costs:
 * io_uring's registration (and unregistration) of the same memory as
 * fixed buffers.
 *
 * The device can sit behind one interface at a time, so each measurement
 * opens it behind a peer, measures, and closes it; the peers take turns
 * (type1, iommufd, ioasid, type1, ...) so that a machine getting slower
 * or faster over the run blurs them all alike.
 *
 * The cases:
 *  - map, then unmap, one buffer (64MiB, 1GiB) in one call, the buffer
 *    backed by 4KiB pages, by 4KiB pages no two of which are physically
 *    next to each other ("frag": see buf_alloc()), by transparent huge
 *    pages and by hugetlbfs 2MiB pages;
 *  - 1024 mappings of one 4KiB page each, then one UNMAP over them all;
 *    for ioasid also as two IOASID_BATCH calls of 1024 operations;
 *  - scale: up to 1M mappings of one 4KiB page each (the same few pages
 *    mapped again and again), with the cost of MAP and UNMAP sampled at
 *    each fill level and the kernel memory each mapping takes.
 *
 * Around each measured operation the program writes a marker to an
 * unused dword of the device's PCI config space (MARK_REG), through
 * sysfs: QEMU traces the write (pci_cfg_write), so the host can count
 * the invalidations the emulated VT-d processed between two markers
 * (scripts/bench-report.py). The markers are outside the timed region.
 *
 * It is a measurement, not a test: it prints records, one a line, that
 * scripts/bench-report.py turns into tables:
 *   # text                                   commentary
 *   I key value...                           a fact about the run
 *   R case peer rep op ns pages ops calls mark
 *                                            one timed operation: @ops
 *                                            MAPs or UNMAPs of @pages
 *                                            4KiB pages in @calls ioctls
 *   K peer round level mappings slab iommu free
 *                                            kernel memory (bytes, change
 *                                            since the peer was set up)
 *   L peer mappings errno                    where a peer refused to map
 *                                            more
 * The mark is the number of the marker pair around the operation, 0 for
 * none.
 *
 *   ioasid-bench [-r REPS] [-s SIZES] [-b BACKINGS] [-C CASES]
 *                [-n ROUNDS] [-c CYCLES] [-l LEVELS] [-d SHALLOW]
 *                [-S SAMPLE] [BDF]
 *   ioasid-bench -P CASE [-t SECONDS] [-p CTL,ACK] [-s SIZE] [BDF]
 *
 *   -r  repetitions of the "size" and "sep" cases (7)
 *   -s  buffer sizes of the "size" case (64M,1G)
 *   -b  backings of the "size" case (4k,frag,thp,hugetlb)
 *   -C  cases to run (size,sep,scale)
 *   -n  fills of each peer in the "scale" case (3)
 *   -c  samples at each fill level (7)
 *   -l  fill levels (1K,10K,64K,256K,1M, where K is 1024)
 *   -d  levels above this only in the last fill (10K)
 *   -S  operations in a sample (1024)
 *
 * -P runs one operation of the ioasid peer again and again, for a
 * profiler (scripts/profile.sh), instead of the benchmark:
 *   frag-map     IOASID_MAP of a "frag" buffer of the first -s size
 *   frag-floor   io_uring's registration of such a buffer, the floor
 *   sep-map      1024 IOASID_MAPs of one 4KiB page each
 *   sep-unmap    one IOASID_UNMAP over those 1024 mappings
 *   batch-map    one IOASID_BATCH of 1024 single-page MAPs
 *   batch-unmap  one IOASID_BATCH of 1024 single-page UNMAPs
 *   -t  seconds the profiled operation takes in all (10)
 *   -p  the control and ack fifos of "perf record -D -1 --control
 *       fifo:CTL,ACK": the profiler is enabled around the profiled
 *       operation only, not around what sets it up or undoes it
 * and prints "T start end" (CLOCK_MONOTONIC ns) for each operation.
 *
 * Sizes and levels are comma-separated numbers with an optional K, M or
 * G (powers of 1024).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include <linux/iommufd.h>
#include <linux/ioasid_fd.h>
#include <linux/vfio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PAGE		4096UL
#define HPAGE		(2UL << 20)
#define GIB		0x40000000UL

#define MARK_REG	0xf0		/* edu has nothing past its MSI cap */
#define MARK_BEGIN	0xb0000000U
#define MARK_END	0xe0000000U
#define MARK_ID_MASK	0x0fffffffU

#define LABEL		0xbe5cULL

/*
 * IOVAs: the big buffers at 1GiB (aligned as far as any of them, so
 * that huge pages map with huge IOMMU pages), the many small mappings
 * from 4GiB up, clear of the MSI window at 0xfee00000.
 */
#define IOVA_BUF	GIB
#define IOVA_MANY	(4 * GIB)

#define SEP_COUNT	1024		/* the "1024 separate mappings" case */
#define SCALE_POOL	1024		/* pages mapped again and again */

static const char *bdf = "0000:00:01.0";
static int cfg_fd = -1;
static unsigned int next_mark = 1;
static bool have_batch;

static void die(const char *what)
{
	printf("# ioasid-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * A marker is one config write; QEMU traces it whatever the device does
 * with it (edu ignores writes there).
 */
static void mark_write(__u32 val)
{
	if (cfg_fd >= 0 && pwrite(cfg_fd, &val, 4, MARK_REG) != 4) {
		printf("# ioasid-bench: marker write: %s; no more markers\n",
		       strerror(errno));
		close(cfg_fd);
		cfg_fd = -1;
	}
}

static unsigned int mark_begin(void)
{
	unsigned int id;

	if (cfg_fd < 0)
		return 0;
	id = next_mark++ & MARK_ID_MASK;
	mark_write(MARK_BEGIN | id);
	return id;
}

static void mark_end(unsigned int id)
{
	if (id)
		mark_write(MARK_END | id);
}

static void record(const char *c, const char *peer, int rep, const char *op,
		   __u64 ns, __u64 pages, __u64 ops, __u64 calls,
		   unsigned int mark)
{
	printf("R %s %s %d %s %llu %llu %llu %llu %u\n", c, peer, rep, op,
	       (unsigned long long)ns, (unsigned long long)pages,
	       (unsigned long long)ops, (unsigned long long)calls, mark);
}

/* ---- the peers ---------------------------------------------------------- */

struct ctx {
	int group_fd;
	int dev_fd;
	int container_fd;	/* type1 */
	int iommufd;		/* iommufd */
	__u32 ioas_id;
	int ioasid_fd;		/* ioasid */
	__u32 ioasid;
};

struct peer {
	const char *name;
	int (*open)(struct ctx *c);
	int (*map)(struct ctx *c, void *va, __u64 len, __u64 iova);
	int (*unmap)(struct ctx *c, __u64 iova, __u64 len);
	bool broken;		/* could not be set up: left out from then on */
};

static void ctx_init(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->group_fd = -1;
	c->dev_fd = -1;
	c->container_fd = -1;
	c->iommufd = -1;
	c->ioasid_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The device first: the group and the backends outlive its users */
static void ctx_close(struct ctx *c)
{
	close_fd(&c->dev_fd);
	close_fd(&c->group_fd);
	close_fd(&c->container_fd);
	close_fd(&c->iommufd);
	close_fd(&c->ioasid_fd);
}

static int open_group(void)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *slash;
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return -1;
	link[len] = 0;
	slash = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%.32s", slash ? slash + 1 : link);
	return open(path, O_RDWR);
}

static int type1_open(struct ctx *c)
{
	c->group_fd = open_group();
	c->container_fd = open("/dev/vfio/vfio", O_RDWR);
	if (c->group_fd < 0 || c->container_fd < 0 ||
	    ioctl(c->group_fd, VFIO_GROUP_SET_CONTAINER, &c->container_fd) ||
	    ioctl(c->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	c->dev_fd = ioctl(c->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return c->dev_fd < 0 ? -1 : 0;
}

static int type1_map(struct ctx *c, void *va, __u64 len, __u64 iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	return ioctl(c->container_fd, VFIO_IOMMU_MAP_DMA, &map);
}

static int type1_unmap(struct ctx *c, __u64 iova, __u64 len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};

	return ioctl(c->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

/* /dev/vfio/devices/vfioN of the device, from sysfs */
static int open_cdev(void)
{
	char path[PATH_MAX];
	unsigned int n;
	int i;

	/* A handful of VFIO devices at most in this guest */
	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/vfio-dev/vfio%d", bdf, i);
		if (access(path, F_OK))
			continue;
		n = i;
		snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%u", n);
		return open(path, O_RDWR);
	}
	errno = ENOENT;
	return -1;
}

static int iommufd_open(struct ctx *c)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};

	c->dev_fd = open_cdev();
	c->iommufd = open("/dev/iommu", O_RDWR);
	if (c->dev_fd < 0 || c->iommufd < 0)
		return -1;
	bind.iommufd = c->iommufd;
	if (ioctl(c->dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(c->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return -1;
	c->ioas_id = alloc.out_ioas_id;
	attach.pt_id = c->ioas_id;
	return ioctl(c->dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
}

static int iommufd_map(struct ctx *c, void *va, __u64 len, __u64 iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = c->ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(c->iommufd, IOMMU_IOAS_MAP, &map);
}

static int iommufd_unmap(struct ctx *c, __u64 iova, __u64 len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = c->ioas_id,
		.iova = iova,
		.length = len,
	};

	return ioctl(c->iommufd, IOMMU_IOAS_UNMAP, &unmap);
}

static int ioasid_open(struct ctx *c)
{
	struct ioasid_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_group_bind_ioasid_fd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_ioasid attach = {
		.argsz = sizeof(attach),
		.label = LABEL,
	};

	c->ioasid_fd = open("/dev/ioasid", O_RDWR);
	c->group_fd = open_group();
	if (c->ioasid_fd < 0 || c->group_fd < 0 ||
	    ioctl(c->ioasid_fd, IOASID_ALLOC, &alloc))
		return -1;
	c->ioasid = alloc.out_ioasid;
	bind.ioasid_fd = c->ioasid_fd;
	if (ioctl(c->group_fd, VFIO_GROUP_BIND_IOASID_FD, &bind))
		return -1;
	c->dev_fd = ioctl(c->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (c->dev_fd < 0)
		return -1;
	attach.ioasid = c->ioasid;
	return ioctl(c->dev_fd, VFIO_DEVICE_ATTACH_IOASID, &attach);
}

static int ioasid_map(struct ctx *c, void *va, __u64 len, __u64 iova)
{
	struct ioasid_map map = {
		.size = sizeof(map),
		.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ |
			 IOASID_MAP_WRITE,
		.ioasid = c->ioasid,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(c->ioasid_fd, IOASID_MAP, &map);
}

static int ioasid_unmap(struct ctx *c, __u64 iova, __u64 len)
{
	struct ioasid_unmap unmap = {
		.size = sizeof(unmap),
		.ioasid = c->ioasid,
		.iova = iova,
		.length = len,
	};

	return ioctl(c->ioasid_fd, IOASID_UNMAP, &unmap);
}

static int ioasid_batch(struct ctx *c, struct ioasid_batch_op *ops,
			unsigned int n)
{
	struct ioasid_batch batch = {
		.size = sizeof(batch),
		.num_ops = n,
		.op_size = sizeof(*ops),
		.ops = (uintptr_t)ops,
	};

	return ioctl(c->ioasid_fd, IOASID_BATCH, &batch);
}

static struct peer peers[] = {
	{ "type1", type1_open, type1_map, type1_unmap },
	{ "iommufd", iommufd_open, iommufd_map, iommufd_unmap },
	{ "ioasid", ioasid_open, ioasid_map, ioasid_unmap },
};

#define PEER_IOASID (&peers[2])

/* Open @c behind @p; a peer that cannot be set up is left out */
static int peer_open(struct peer *p, struct ctx *c)
{
	ctx_init(c);
	if (p->broken)
		return -1;
	if (p->open(c)) {
		printf("# ioasid-bench: %s: cannot set the device up: %s; left out\n",
		       p->name, strerror(errno));
		p->broken = true;
		ctx_close(c);
		return -1;
	}
	return 0;
}

/* ---- memory ------------------------------------------------------------- */

enum backing { B_4K, B_FRAG, B_THP, B_HUGETLB, NR_BACKINGS };

static const char * const backing_names[] = {
	[B_4K] = "4k",
	[B_FRAG] = "frag",
	[B_THP] = "thp",
	[B_HUGETLB] = "hugetlb",
};

struct buf {
	char *va;
	__u64 len;
	void *map;		/* what to munmap() */
	__u64 map_len;
};

/*
 * Physically contiguous runs of @len bytes at @va, from the pagemap; and
 * in @up, how many pages are physically above the one before them.
 */
static long pfn_runs(const void *va, __u64 len, long *up)
{
	__u64 npages = len / PAGE, i, prev = 0, e;
	long runs = 0;
	int fd;

	*up = 0;
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	for (i = 0; i != npages; i++) {
		off_t off = ((uintptr_t)va / PAGE + i) * sizeof(e);

		if (pread(fd, &e, sizeof(e), off) != sizeof(e) ||
		    !(e & (1ULL << 63))) {
			runs = -1;
			break;
		}
		e &= (1ULL << 55) - 1;
		if (!e) {		/* PFNs hidden: not root */
			runs = -1;
			break;
		}
		if (i == 0 || e != prev + 1)
			runs++;
		if (i && e > prev)
			(*up)++;
		prev = e;
	}
	close(fd);
	return runs;
}

/* A field of /proc/self/smaps for the mapping that starts at @va, in kB */
static long smaps_kb(const void *va, const char *field)
{
	char line[256], start[32];
	bool in = false;
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)va);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') &&
		    strchr(line, ' ')) {
			if (in)
				break;
			in = !strncmp(line, start, strlen(start));
			continue;
		}
		if (in && !strncmp(line, field, strlen(field)) &&
		    line[strlen(field)] == ':') {
			kb = strtol(line + strlen(field) + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static long meminfo_kb(const char *field)
{
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)) &&
		    line[strlen(field)] == ':') {
			kb = strtol(line + strlen(field) + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static long vmstat_field(const char *field)
{
	char name[64];
	long val, found = -1;
	FILE *f;

	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &val) == 2)
		if (!strcmp(name, field)) {
			found = val;
			break;
		}
	fclose(f);
	return found;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), rc;

	if (fd < 0)
		return -1;
	rc = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return rc;
}

static void set_hugepages(unsigned long n)
{
	char val[32];

	snprintf(val, sizeof(val), "%lu", n);
	if (write_file("/proc/sys/vm/nr_hugepages", val))
		printf("# ioasid-bench: nr_hugepages: %s\n", strerror(errno));
}

/*
 * Fault in [@va, @va + @len) for writing. The kernel doing it in one
 * call (MADV_POPULATE_WRITE) is several times faster under TCG than a
 * trapping fault per page.
 */
static void populate(char *va, __u64 len)
{
	__u64 i;

	if (!madvise(va, len, MADV_POPULATE_WRITE))
		return;
	for (i = 0; i < len; i += PAGE)
		va[i] = 1;
}

/*
 * @len bytes backed as @b asks, every page faulted in. The "frag" pages
 * are faulted in from the last to the first, and after each one a page
 * of a spacer mapping, freed at the end: whichever way the page
 * allocator hands out pages (ascending from a split block, or from the
 * top of what was just freed), no page of the buffer is physically
 * next to the one before it. Returns 0, or -1 if the memory is not there.
 */
static int buf_alloc(struct buf *buf, enum backing b, __u64 len)
{
	__u64 i;

	memset(buf, 0, sizeof(*buf));
	buf->len = len;
	if (b == B_HUGETLB) {
		buf->map_len = len;
		buf->map = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
				(21 << MAP_HUGE_SHIFT), -1, 0);
		if (buf->map == MAP_FAILED)
			return -1;
		buf->va = buf->map;
	} else {
		/* 2MiB-aligned, whatever the backing, for comparable IOVAs */
		buf->map_len = len + HPAGE;
		buf->map = mmap(NULL, buf->map_len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				-1, 0);
		if (buf->map == MAP_FAILED)
			return -1;
		buf->va = (char *)(((uintptr_t)buf->map + HPAGE - 1) &
				   ~(HPAGE - 1));
		if (madvise(buf->va, len, b == B_THP ? MADV_HUGEPAGE :
						       MADV_NOHUGEPAGE))
			return -1;
	}
	if (b == B_FRAG) {
		char *spacer = mmap(NULL, len, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				    -1, 0);

		if (spacer == MAP_FAILED ||
		    madvise(spacer, len, MADV_NOHUGEPAGE))
			return -1;
		for (i = len / PAGE; i-- > 0;) {
			populate(buf->va + i * PAGE, PAGE);
			populate(spacer + i * PAGE, PAGE);
		}
		munmap(spacer, len);
	} else {
		populate(buf->va, len);
	}
	return 0;
}

static void buf_free(struct buf *buf)
{
	if (buf->map && buf->map != MAP_FAILED)
		munmap(buf->map, buf->map_len);
	buf->map = NULL;
}

/* ---- the pinning floor: io_uring fixed buffers -------------------------- */

static struct io_uring ring;
static bool have_ring;

static int uring_register(const struct buf *buf)
{
	struct iovec iov[64];
	unsigned int n = 0;
	__u64 off;

	for (off = 0; off < buf->len && n < ARRAY_SIZE(iov); off += GIB) {
		iov[n].iov_base = buf->va + off;
		iov[n].iov_len = buf->len - off < GIB ? buf->len - off : GIB;
		n++;
	}
	return io_uring_register_buffers(&ring, iov, n);
}

/* ---- case 1: one buffer in one call ------------------------------------- */

static const char *size_name(__u64 len, char *name, size_t size)
{
	if (len >= GIB && !(len % GIB))
		snprintf(name, size, "%lluG", (unsigned long long)(len / GIB));
	else if (len >= (1 << 20) && !(len % (1 << 20)))
		snprintf(name, size, "%lluM",
			 (unsigned long long)(len >> 20));
	else
		snprintf(name, size, "%lluK",
			 (unsigned long long)(len >> 10));
	return name;
}

static void one_buffer(enum backing b, __u64 len, int reps)
{
	char cname[64], sname[24];
	__u64 t0, t1, pages = len / PAGE;
	unsigned int m;
	struct buf buf;
	struct ctx c;
	long runs, up;
	int rep, rc;
	size_t i;

	snprintf(cname, sizeof(cname), "%s.%s",
		 size_name(len, sname, sizeof(sname)), backing_names[b]);
	/* The pool only while it is used: the other cases want the RAM */
	if (b == B_HUGETLB) {
		set_hugepages(len / HPAGE);
		if (meminfo_kb("HugePages_Free") < (long)(len / HPAGE)) {
			printf("# ioasid-bench: %s: only %ld free huge pages; skipped\n",
			       cname, meminfo_kb("HugePages_Free"));
			printf("I skipped %s no-hugepages\n", cname);
			set_hugepages(0);
			return;
		}
	}
	t0 = now_ns();
	if (buf_alloc(&buf, b, len)) {
		printf("# ioasid-bench: %s: no memory (%s); skipped\n", cname,
		       strerror(errno));
		printf("I skipped %s no-memory\n", cname);
		buf_free(&buf);
		return;
	}
	runs = pfn_runs(buf.va, len, &up);
	printf("I runs %s %ld %llu %ld\n", cname, runs,
	       (unsigned long long)pages, up);
	printf("I anonhuge %s %ld\n", cname, smaps_kb(buf.va, "AnonHugePages"));
	printf("# %s: %llu pages, %ld contiguous runs, %ld above the last\n",
	       cname, (unsigned long long)pages, runs, up);
	printf("# %s: AnonHugePages %ld kB, populated in %llu ms\n", cname,
	       smaps_kb(buf.va, "AnonHugePages"),
	       (unsigned long long)(now_ns() - t0) / 1000000);

	for (rep = 0; rep < reps; rep++) {
		for (i = 0; i < ARRAY_SIZE(peers); i++) {
			struct peer *p = &peers[i];

			if (peer_open(p, &c))
				continue;
			m = mark_begin();
			t0 = now_ns();
			rc = p->map(&c, buf.va, len, IOVA_BUF);
			t1 = now_ns();
			mark_end(m);
			if (rc) {
				printf("# ioasid-bench: %s %s: MAP: %s\n",
				       cname, p->name, strerror(errno));
				ctx_close(&c);
				continue;
			}
			record(cname, p->name, rep, "map", t1 - t0, pages, 1, 1,
			       m);
			m = mark_begin();
			t0 = now_ns();
			rc = p->unmap(&c, IOVA_BUF, len);
			t1 = now_ns();
			mark_end(m);
			if (rc)
				printf("# ioasid-bench: %s %s: UNMAP: %s\n",
				       cname, p->name, strerror(errno));
			else
				record(cname, p->name, rep, "unmap", t1 - t0,
				       pages, 1, 1, m);
			ctx_close(&c);
		}
		if (!have_ring)
			continue;
		t0 = now_ns();
		rc = uring_register(&buf);
		t1 = now_ns();
		if (rc) {
			printf("# ioasid-bench: %s: io_uring_register_buffers: %s\n",
			       cname, strerror(-rc));
			continue;
		}
		record(cname, "uring", rep, "map", t1 - t0, pages, 1, 1, 0);
		t0 = now_ns();
		rc = io_uring_unregister_buffers(&ring);
		t1 = now_ns();
		if (!rc)
			record(cname, "uring", rep, "unmap", t1 - t0, pages, 1,
			       1, 0);
	}
	buf_free(&buf);
	if (b == B_HUGETLB)
		set_hugepages(0);
}

/* ---- case 2: 1024 separate mappings, one UNMAP --------------------------- */

/* The batch of SEP_COUNT single-page MAPs or UNMAPs of the "sep" case */
static void sep_ops(struct ioasid_batch_op *ops, __u32 op,
		    const struct ctx *c, char *va)
{
	unsigned int k;

	for (k = 0; k < SEP_COUNT; k++) {
		ops[k] = (struct ioasid_batch_op){
			.op = op,
			.ioasid = c->ioasid,
			.length = PAGE,
			.iova = IOVA_MANY + k * PAGE,
		};
		if (op == IOASID_BATCH_MAP) {
			ops[k].flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ |
				       IOASID_MAP_WRITE;
			ops[k].user_va = (uintptr_t)(va + k * PAGE);
		}
	}
}

static void separate(int reps)
{
	struct ioasid_batch_op *ops;
	__u64 t0, t1;
	unsigned int m, k;
	struct buf buf;
	struct ctx c;
	int rep, rc = 0;
	size_t i;

	if (buf_alloc(&buf, B_4K, SEP_COUNT * PAGE))
		die("sep: buffer");
	ops = calloc(SEP_COUNT, sizeof(*ops));
	if (!ops)
		die("sep: ops");
	for (rep = 0; rep < reps; rep++) {
		for (i = 0; i < ARRAY_SIZE(peers); i++) {
			struct peer *p = &peers[i];

			if (peer_open(p, &c))
				continue;
			m = mark_begin();
			t0 = now_ns();
			for (k = 0; k < SEP_COUNT; k++) {
				rc = p->map(&c, buf.va + k * PAGE, PAGE,
					    IOVA_MANY + k * PAGE);
				if (rc)
					break;
			}
			t1 = now_ns();
			mark_end(m);
			if (rc) {
				printf("# ioasid-bench: sep %s: MAP %u: %s\n",
				       p->name, k, strerror(errno));
				ctx_close(&c);
				continue;
			}
			record("sep", p->name, rep, "map", t1 - t0, SEP_COUNT,
			       SEP_COUNT, SEP_COUNT, m);
			m = mark_begin();
			t0 = now_ns();
			rc = p->unmap(&c, IOVA_MANY, SEP_COUNT * PAGE);
			t1 = now_ns();
			mark_end(m);
			if (rc)
				printf("# ioasid-bench: sep %s: UNMAP: %s\n",
				       p->name, strerror(errno));
			else
				record("sep", p->name, rep, "unmap", t1 - t0,
				       SEP_COUNT, SEP_COUNT, 1, m);

			if (p != PEER_IOASID || !have_batch) {
				ctx_close(&c);
				continue;
			}
			sep_ops(ops, IOASID_BATCH_MAP, &c, buf.va);
			m = mark_begin();
			t0 = now_ns();
			rc = ioasid_batch(&c, ops, SEP_COUNT);
			t1 = now_ns();
			mark_end(m);
			if (rc) {
				printf("# ioasid-bench: sep: IOASID_BATCH of MAPs: %s\n",
				       strerror(errno));
				ctx_close(&c);
				continue;
			}
			record("sep", "ioasid-batch", rep, "map", t1 - t0,
			       SEP_COUNT, SEP_COUNT, 1, m);
			sep_ops(ops, IOASID_BATCH_UNMAP, &c, buf.va);
			m = mark_begin();
			t0 = now_ns();
			rc = ioasid_batch(&c, ops, SEP_COUNT);
			t1 = now_ns();
			mark_end(m);
			if (rc)
				printf("# ioasid-bench: sep: IOASID_BATCH of UNMAPs: %s\n",
				       strerror(errno));
			else
				record("sep", "ioasid-batch", rep, "unmap",
				       t1 - t0, SEP_COUNT, SEP_COUNT, 1, m);
			ctx_close(&c);
		}
	}
	free(ops);
	buf_free(&buf);
}

/* ---- case 3: many mappings ---------------------------------------------- */

struct kmem {
	long slab_kb;
	long iommu_pages;
	long free_kb;
};

static void kmem_read(struct kmem *k)
{
	k->slab_kb = meminfo_kb("Slab");
	k->iommu_pages = vmstat_field("nr_iommu_pages");
	k->free_kb = meminfo_kb("MemFree");
}

struct scale {
	struct peer *p;
	struct ctx c;
	char *pool;
	__u64 mapped;	/* mappings 0 .. mapped - 1 exist */
	int err;		/* why the last MAP failed, 0 if none did */
};

static __u64 scale_iova(__u64 i)
{
	return IOVA_MANY + i * PAGE;
}

/* Map up to mapping @to (exclusive); false if a MAP failed */
static bool scale_fill(struct scale *s, __u64 to)
{
	for (; s->mapped < to; s->mapped++)
		if (s->p->map(&s->c, s->pool + (s->mapped % SCALE_POOL) * PAGE,
			      PAGE, scale_iova(s->mapped))) {
			s->err = errno;
			return false;
		}
	return true;
}

/* Unmap the last @n mappings, one UNMAP each */
static bool scale_trim(struct scale *s, __u64 n)
{
	for (; n; n--) {
		if (s->p->unmap(&s->c, scale_iova(s->mapped - 1), PAGE)) {
			s->err = errno;
			return false;
		}
		s->mapped--;
	}
	return true;
}

/*
 * Fill @p's IOASID level by level. At each level the last @sample
 * mappings are the measurement: MAP them (timed), UNMAP them one call
 * each (timed), @cycles times. A peer that refuses a MAP stops there:
 * its last level is where it stopped.
 */
static void scale_one(struct peer *p, char *pool, const __u64 *levels,
		      int nlevels, __u64 sample, int cycles, int round)
{
	struct scale s = { .p = p, .pool = pool };
	__u64 t0, t1, n, target, prev = 0, limit = ULLONG_MAX, last = 0;
	struct kmem k0, k;
	char cname[32];
	unsigned int m;
	int l, cyc;

	if (peer_open(p, &s.c))
		return;
	kmem_read(&k0);
	for (l = 0; l < nlevels; l++) {
		target = levels[l] < limit ? levels[l] : limit;
		if (target <= prev)
			break;
		snprintf(cname, sizeof(cname), "scale.%llu",
			 (unsigned long long)levels[l]);
		/* Untimed up to one sample short of the level */
		if (target > sample && !scale_fill(&s, target - sample)) {
			limit = s.mapped;
			break;
		}
		for (cyc = 0; cyc < cycles; cyc++) {
			n = s.mapped;
			m = mark_begin();
			t0 = now_ns();
			if (!scale_fill(&s, target)) {
				target = s.mapped;
				limit = target;
			}
			t1 = now_ns();
			mark_end(m);
			prev = target;
			last = levels[l];
			if (s.mapped > n)
				record(cname, p->name, round * cycles + cyc,
				       "map", t1 - t0, s.mapped - n,
				       s.mapped - n, s.mapped - n, m);
			if (cyc == 0) {
				kmem_read(&k);
				printf("K %s %d %llu %llu %ld %ld %ld\n",
				       p->name, round,
				       (unsigned long long)levels[l],
				       (unsigned long long)s.mapped,
				       (k.slab_kb - k0.slab_kb) * 1024,
				       (k.iommu_pages - k0.iommu_pages) *
				       (long)PAGE,
				       (k0.free_kb - k.free_kb) * 1024);
			}
			n = s.mapped < sample ? s.mapped : sample;
			m = mark_begin();
			t0 = now_ns();
			if (!scale_trim(&s, n)) {
				mark_end(m);
				printf("# ioasid-bench: %s %s: UNMAP: %s\n",
				       cname, p->name, strerror(s.err));
				goto out;
			}
			t1 = now_ns();
			mark_end(m);
			record(cname, p->name, round * cycles + cyc, "unmap",
			       t1 - t0, n, n, n, m);
		}
	}
	if (limit != ULLONG_MAX) {
		printf("L %s %llu %s\n", p->name, (unsigned long long)limit,
		       strerrorname_np(s.err) ?: "?");
		printf("# ioasid-bench: scale %s: MAP number %llu failed: %s\n",
		       p->name, (unsigned long long)limit + 1,
		       strerror(s.err));
	}
	/* Back to the last level, then everything in one UNMAP */
	if (!scale_fill(&s, prev))
		printf("# ioasid-bench: scale %s: refill: %s\n", p->name,
		       strerror(s.err));
	if (s.mapped) {
		n = s.mapped;
		m = mark_begin();
		t0 = now_ns();
		if (p->unmap(&s.c, scale_iova(0), n * PAGE))
			printf("# ioasid-bench: scale %s: UNMAP of all: %s\n",
			       p->name, strerror(errno));
		t1 = now_ns();
		mark_end(m);
		snprintf(cname, sizeof(cname), "unmapall.%llu",
			 (unsigned long long)last);
		record(cname, p->name, round, "unmap", t1 - t0, n, n, 1, m);
	}
out:
	ctx_close(&s.c);
}

/*
 * @rounds fills of each peer, the peers taking turns; the levels above
 * @shallow only in the last round (a fill to 1M mappings takes minutes
 * under TCG).
 */
static void scale(const __u64 *levels, int nlevels, __u64 shallow,
		  __u64 sample, int rounds, int cycles)
{
	struct buf pool;
	int round, n;
	size_t i;

	if (buf_alloc(&pool, B_4K, SCALE_POOL * PAGE))
		die("the pool of pages to map");
	for (round = 0; round < rounds; round++) {
		for (n = 0; n < nlevels; n++)
			if (round < rounds - 1 && levels[n] > shallow)
				break;
		for (i = 0; i < ARRAY_SIZE(peers); i++)
			scale_one(&peers[i], pool.va, levels, n, sample,
				  cycles, round);
	}
	buf_free(&pool);
}

/* ---- profiling: one case in a loop -------------------------------------- */

/*
 * -P CASE: one operation, again and again until it has taken -t seconds
 * in all, for a profiler to see where the time goes. With -p CTL,ACK,
 * the fifos of "perf record -D -1 --control fifo:CTL,ACK", the profiler
 * is enabled around each profiled operation only: the setup, and the
 * operation that undoes it before the next round, stay out.
 */
enum prof_case {
	P_FRAG_MAP,		/* IOASID_MAP of a "frag" buffer (-s) */
	P_FRAG_FLOOR,		/* io_uring registration of the same */
	P_SEP_MAP,		/* SEP_COUNT IOASID_MAPs of a page each */
	P_SEP_UNMAP,		/* one IOASID_UNMAP over them */
	P_BATCH_MAP,		/* one IOASID_BATCH of SEP_COUNT MAPs */
	P_BATCH_UNMAP,		/* one IOASID_BATCH of SEP_COUNT UNMAPs */
	NR_PROF_CASES
};

static const char * const prof_names[] = {
	[P_FRAG_MAP] = "frag-map",
	[P_FRAG_FLOOR] = "frag-floor",
	[P_SEP_MAP] = "sep-map",
	[P_SEP_UNMAP] = "sep-unmap",
	[P_BATCH_MAP] = "batch-map",
	[P_BATCH_UNMAP] = "batch-unmap",
};

static int prof_ctl = -1, prof_ack = -1;

/* "enable" or "disable" the profiler; returns once it has done it */
static void prof_cmd(const char *cmd)
{
	char ack[16];

	if (prof_ctl < 0)
		return;
	if (write(prof_ctl, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) ||
	    read(prof_ack, ack, sizeof(ack)) <= 0)
		die("perf control fifo");
}

static void prof_open(const char *arg)
{
	char ctl[PATH_MAX];
	const char *comma = strchr(arg, ',');

	if (!comma || comma - arg >= PATH_MAX) {
		errno = EINVAL;
		die("-p CTL,ACK");
	}
	snprintf(ctl, sizeof(ctl), "%.*s", (int)(comma - arg), arg);
	prof_ctl = open(ctl, O_WRONLY);
	prof_ack = open(comma + 1, O_RDONLY);
	if (prof_ctl < 0 || prof_ack < 0)
		die("-p CTL,ACK");
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Map the SEP_COUNT pages one IOASID_MAP each */
static int sep_map_each(struct ctx *c, char *va)
{
	unsigned int k;

	for (k = 0; k < SEP_COUNT; k++)
		if (ioasid_map(c, va + k * PAGE, PAGE, IOVA_MANY + k * PAGE))
			return -1;
	return 0;
}

/* One round of @pc; returns the profiled operation's ns, 0 on failure */
static __u64 prof_round(enum prof_case pc, struct ctx *c, struct buf *buf,
			struct ioasid_batch_op *ops)
{
	const __u64 sep_len = SEP_COUNT * PAGE;
	int rc = 0, undo = 0;
	__u64 t0, t1;

	/* What has to be there before the profiled operation */
	if (pc == P_SEP_UNMAP)
		rc = sep_map_each(c, buf->va);
	if (pc == P_BATCH_UNMAP) {
		sep_ops(ops, IOASID_BATCH_MAP, c, buf->va);
		rc = ioasid_batch(c, ops, SEP_COUNT);
	}
	if (pc == P_BATCH_MAP || pc == P_BATCH_UNMAP)
		sep_ops(ops, pc == P_BATCH_MAP ? IOASID_BATCH_MAP :
			IOASID_BATCH_UNMAP, c, buf->va);
	if (rc)
		die("profile: setting the round up");

	prof_cmd("enable\n");
	t0 = now_ns();
	switch (pc) {
	case P_FRAG_MAP:
		rc = ioasid_map(c, buf->va, buf->len, IOVA_BUF);
		break;
	case P_FRAG_FLOOR:
		rc = uring_register(buf);
		if (rc) {
			errno = -rc;
			rc = -1;
		}
		break;
	case P_SEP_MAP:
		rc = sep_map_each(c, buf->va);
		break;
	case P_SEP_UNMAP:
		rc = ioasid_unmap(c, IOVA_MANY, sep_len);
		break;
	case P_BATCH_MAP:
	case P_BATCH_UNMAP:
		rc = ioasid_batch(c, ops, SEP_COUNT);
		break;
	default:
		break;
	}
	t1 = now_ns();
	prof_cmd("disable\n");
	if (rc)
		die(prof_names[pc]);
	/* For the profiler: the samples to keep, in CLOCK_MONOTONIC */
	printf("T %llu %llu\n", (unsigned long long)t0,
	       (unsigned long long)t1);

	/* Undo it for the next round */
	switch (pc) {
	case P_FRAG_MAP:
		undo = ioasid_unmap(c, IOVA_BUF, buf->len);
		break;
	case P_FRAG_FLOOR:
		undo = io_uring_unregister_buffers(&ring);
		break;
	case P_SEP_MAP:
	case P_BATCH_MAP:
		undo = ioasid_unmap(c, IOVA_MANY, sep_len);
		break;
	default:
		break;
	}
	if (undo)
		die("profile: undoing the round");
	return t1 - t0;
}

static void prof_run(const char *name, __u64 len, double secs)
{
	enum prof_case pc = NR_PROF_CASES;
	struct ioasid_batch_op *ops;
	__u64 busy = 0, *ns = NULL;
	size_t n = 0, max = 0, i;
	struct buf buf;
	struct ctx c;

	ctx_init(&c);
	for (i = 0; i < ARRAY_SIZE(prof_names); i++)
		if (!strcmp(name, prof_names[i]))
			pc = i;
	if (pc == NR_PROF_CASES) {
		errno = EINVAL;
		die(name);
	}
	if (pc == P_FRAG_FLOOR && !have_ring) {
		printf("# ioasid-bench: no io_uring, no floor\n");
		exit(1);
	}
	if (pc != P_FRAG_FLOOR && peer_open(PEER_IOASID, &c))
		exit(1);
	ops = calloc(SEP_COUNT, sizeof(*ops));
	if (!ops)
		die("profile: ops");
	if (pc == P_FRAG_MAP || pc == P_FRAG_FLOOR) {
		if (buf_alloc(&buf, B_FRAG, len))
			die("profile: frag buffer");
	} else if (buf_alloc(&buf, B_4K, SEP_COUNT * PAGE)) {
		die("profile: buffer");
	}

	while (busy < secs * 1e9) {
		if (n == max) {
			max = max ? 2 * max : 64;
			ns = realloc(ns, max * sizeof(*ns));
			if (!ns)
				die("profile: times");
		}
		ns[n] = prof_round(pc, &c, &buf, ops);
		busy += ns[n++];
	}
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("# profile %s: %zu rounds, %.1f s profiled; ", name, n,
	       busy / 1e9);
	printf("one operation: median %llu us, min %llu us, max %llu us\n",
	       (unsigned long long)ns[n / 2] / 1000,
	       (unsigned long long)ns[0] / 1000,
	       (unsigned long long)ns[n - 1] / 1000);
	free(ns);
	free(ops);
	buf_free(&buf);
	if (pc != P_FRAG_FLOOR)
		ctx_close(&c);
}

/* ---- setup -------------------------------------------------------------- */

static __u64 parse_size(const char *s, char **end)
{
	static const char units[] = "KMG";
	__u64 v = strtoull(s, end, 10);
	const char *u = **end ? strchr(units, toupper(**end)) : NULL;

	if (u) {
		v <<= 10 * (u - units + 1);
		(*end)++;
	}
	return v;
}

static int parse_list(const char *arg, __u64 *v, int max)
{
	char *end;
	int n = 0;

	while (*arg && n < max) {
		v[n++] = parse_size(arg, &end);
		if (*end != ',' && *end)
			break;
		arg = *end ? end + 1 : end;
	}
	return n;
}

static void print_file(const char *key, const char *path)
{
	char line[256] = "";
	FILE *f = fopen(path, "r");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
	}
	line[strcspn(line, "\n")] = 0;
	printf("I %s %s\n", key, line[0] ? line : "?");
}

int main(int argc, char **argv)
{
	struct ioasid_info info = { .size = sizeof(info) };
	__u64 sizes[8] = { 64 << 20, GIB }, levels[16] = {
		1024, 10240, 65536, 262144, 1048576 };
	int nsizes = 2, nlevels = 5, reps = 7, rounds = 3, cycles = 7;
	__u64 sample = 1024, shallow = 10240, t_start = now_ns(), t0;
	const char *cases = "size,sep,scale", *backings = "4k,frag,thp,hugetlb";
	char path[PATH_MAX], *end;
	const char *prof_case = NULL;
	double prof_secs = 10;
	int opt, fd, rc, b, i;

	while ((opt = getopt(argc, argv, "r:s:b:n:c:l:d:S:C:P:t:p:")) != -1) {
		switch (opt) {
		case 'r':
			reps = atoi(optarg);
			break;
		case 's':
			nsizes = parse_list(optarg, sizes, ARRAY_SIZE(sizes));
			break;
		case 'b':
			backings = optarg;
			break;
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'c':
			cycles = atoi(optarg);
			break;
		case 'l':
			nlevels = parse_list(optarg, levels, ARRAY_SIZE(levels));
			break;
		case 'd':
			shallow = parse_size(optarg, &end);
			break;
		case 'S':
			sample = strtoull(optarg, NULL, 0);
			break;
		case 'C':
			cases = optarg;
			break;
		case 'P':
			prof_case = optarg;
			break;
		case 't':
			prof_secs = atof(optarg);
			break;
		case 'p':
			prof_open(optarg);
			break;
		default:
			fprintf(stderr, "usage: see the comment at the top of %s\n",
				__FILE__);
			return 2;
		}
	}
	if (optind < argc)
		bdf = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("I device %s\n", bdf);
	printf("I reps %d\nI rounds %d\nI cycles %d\nI sample %llu\n", reps,
	       rounds, cycles, (unsigned long long)sample);
	printf("I shallow %llu\n", (unsigned long long)shallow);
	print_file("thp", "/sys/kernel/mm/transparent_hugepage/enabled");
	print_file("type1_dma_entry_limit",
		   "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit");
	printf("I memtotal_kb %ld\n", meminfo_kb("MemTotal"));

	fd = open("/dev/ioasid", O_RDWR);
	if (fd < 0 || ioctl(fd, IOASID_INFO, &info))
		die("IOASID_INFO");
	close(fd);
	have_batch = info.out_capabilities & IOASID_CAP_BATCH;
	printf("I batch %s\n", have_batch ? "yes" : "no");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	cfg_fd = open(path, O_WRONLY);
	if (cfg_fd < 0)
		printf("# ioasid-bench: %s: %s; no markers\n", path,
		       strerror(errno));
	printf("I markers %s %#x\n", cfg_fd >= 0 ? "on" : "off", MARK_REG);

	rc = io_uring_queue_init(4, &ring, 0);
	have_ring = !rc;
	if (rc)
		printf("# ioasid-bench: io_uring_queue_init: %s; no floor\n",
		       strerror(-rc));

	if (prof_case) {
		prof_run(prof_case, sizes[0], prof_secs);
		return 0;
	}
	if (strstr(cases, "size")) {
		for (i = 0; i < nsizes; i++)
			for (b = 0; b < NR_BACKINGS; b++) {
				if (!strstr(backings, backing_names[b]))
					continue;
				t0 = now_ns();
				one_buffer(b, sizes[i], reps);
				printf("# time %s.%s %llu s\n",
				       size_name(sizes[i], path, 24),
				       backing_names[b],
				       (unsigned long long)(now_ns() - t0) /
				       1000000000);
			}
	}
	if (strstr(cases, "sep")) {
		t0 = now_ns();
		separate(reps);
		printf("# time sep %llu s\n",
		       (unsigned long long)(now_ns() - t0) / 1000000000);
	}
	if (strstr(cases, "scale")) {
		t0 = now_ns();
		scale(levels, nlevels, shallow, sample, rounds, cycles);
		printf("# time scale %llu s\n",
		       (unsigned long long)(now_ns() - t0) / 1000000000);
	}
	/* At the end: the kernel moves from tsc-early to tsc after boot */
	print_file("clocksource",
		   "/sys/devices/system/clocksource/clocksource0/current_clocksource");
	printf("I seconds %llu\n",
	       (unsigned long long)(now_ns() - t_start) / 1000000000);
	printf("# ioasid-bench: done\n");
	return 0;
}
