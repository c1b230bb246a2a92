// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a VMM does with /dev/ioasid to give a device to a guest, on QEMU's
 * "edu" device: ask the kernel what it offers, create an I/O address
 * space, bind the device's VFIO group to it, attach the device under a
 * label, map memory, and let the device DMA through the mapping. Then
 * unmap, and see that the device no longer reaches the memory.
 *
 *   ioasid-demo [BDF]      (default 0000:00:01.0, bound to vfio-pci)
 */
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
#include <unistd.h>

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

static const char * const cap_names[] = {
	"test",
};

static int dev_fd;
static __u64 bar0;

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
	struct vfio_group_bind_ioasid_fd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_ioasid attach = {
		.argsz = sizeof(attach),
		.label = LABEL,
	};
	struct vfio_region_info region = { .argsz = sizeof(region) };
	struct ioasid_map map = { .size = sizeof(map) };
	struct ioasid_unmap unmap = { .size = sizeof(unmap) };
	static const char msg[] = "DMA through an I/O page table the VMM owns";
	int fd, group_fd, ok;
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
	memset(buf + 0x3000, 0, sizeof(msg));
	edu_dma(IOVA + 0x3000, sizeof(msg), 1);
	printf("after IOASID_UNMAP (%llu bytes), DMA to the IOVA: %s\n",
	       (unsigned long long)unmap.out_length,
	       buf[0x3000] ? "REACHED memory" :
	       "blocked by the IOMMU, memory unchanged");
	ok = ok && !buf[0x3000];

	close(dev_fd);
	close(group_fd);
	close(fd);
	return ok ? 0 : 1;
}
