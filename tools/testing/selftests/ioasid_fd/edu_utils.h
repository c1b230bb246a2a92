/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the tests that drive QEMU's "edu" device (1234:11e8)
 * through VFIO: finding the devices, binding drivers, removing them from
 * the bus and finding them again, the VFIO group and device fds, two
 * IOMMU backends (/dev/ioasid and VFIO type1) behind one map/unmap
 * interface, the edu DMA engine, and the DMAR faults in the kernel log.
 *
 * edu DMA: one transfer copies up to 4KiB between RAM (an IOVA) and a
 * buffer in the device at EDU_BUF, 100ms of virtual time after the
 * command register is written. The device only drives 28 address bits,
 * so every IOVA used here is below 256MiB; and QEMU 7.2 aborts the whole
 * VM on a transfer that reaches the last byte of the buffer, so transfers
 * stay well inside it.
 */
#ifndef __SELFTEST_EDU_UTILS_H
#define __SELFTEST_EDU_UTILS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioasid_fd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "ioasid_fd_utils.h"

#define PCI_DEVICES "/sys/bus/pci/devices"

#define EDU_ID		0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_START	0x01
#define EDU_DMA_TO_RAM	0x02
#define EDU_BUF		0x40000ULL
#define EDU_DMA_LIMIT	0x10000000ULL	/* 28 address bits */

/*
 * The machine (scripts/vm.sh; rig.c checks it): four edus. find_edus()
 * sorts them by address, so the two alone on the root bus (00:01.0 and
 * 00:10.0, an IOMMU group each) come first, then the two behind the
 * PCIe-to-PCI bridge, which share one group.
 */
#define NUM_EDUS	4
#define EDU_ROOT_A	0
#define EDU_ROOT_B	1
#define EDU_BRIDGED	2	/* and EDU_BRIDGED + 1 */

struct edu {
	char bdf[NAME_MAX + 1];
	unsigned int bus;
	int group;	/* -1 without an IOMMU group */
};

/* A sysfs file's value in hex, 0 if it cannot be read */
static unsigned long path_hex(const char *path)
{
	char buf[32] = "";
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static unsigned long sysfs_hex(const char *bdf, const char *attr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	return path_hex(path);
}

static int iommu_group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	char *slash;
	ssize_t len;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return -1;
	link[len] = 0;
	slash = strrchr(link, '/');
	return atoi(slash ? slash + 1 : link);
}

static int edu_cmp(const void *a, const void *b)
{
	return strcmp(((const struct edu *)a)->bdf, ((const struct edu *)b)->bdf);
}

/* The edu devices, sorted by address: the root-bus ones come first */
static int find_edus(struct edu *edus, int max)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(PCI_DEVICES);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < max) {
		unsigned int dom, bus, dev, fn;

		if (sscanf(de->d_name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
			continue;
		if (sysfs_hex(de->d_name, "vendor") != 0x1234 ||
		    sysfs_hex(de->d_name, "device") != 0x11e8)
			continue;
		snprintf(edus[n].bdf, sizeof(edus[n].bdf), "%s", de->d_name);
		edus[n].bus = bus;
		edus[n].group = iommu_group_of(de->d_name);
		n++;
	}
	closedir(d);
	qsort(edus, n, sizeof(*edus), edu_cmp);
	return n;
}

/* The name of the driver bound to @bdf, "" if none */
static void driver_of(const char *bdf, char *name, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	char *slash;
	ssize_t len;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	len = readlink(path, link, sizeof(link) - 1);
	name[0] = 0;
	if (len < 0)
		return;
	link[len] = 0;
	slash = strrchr(link, '/');
	snprintf(name, size, "%.*s", (int)size - 1, slash ? slash + 1 : link);
}

/* Bind @bdf to @driver ("" to leave it unbound); 0 if it is bound so */
static int bind_driver(const char *bdf, const char *driver)
{
	char path[PATH_MAX], cur[NAME_MAX + 1];

	driver_of(bdf, cur, sizeof(cur));
	if (!strcmp(cur, driver))
		return 0;
	if (cur[0]) {
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver/unbind", bdf);
		if (write_str(path, bdf))
			return -1;
	}
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", bdf);
	if (write_str(path, driver[0] ? driver : "\n"))
		return -1;
	if (driver[0])
		write_str("/sys/bus/pci/drivers_probe", bdf);
	driver_of(bdf, cur, sizeof(cur));
	return strcmp(cur, driver) ? -1 : 0;
}

/* @bdf is on the PCI bus (not removed) */
static bool pci_present(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s", bdf);
	return access(path, F_OK) == 0;
}

/*
 * Remove @bdf from the PCI bus, as a hot-unplug does, in a child process:
 * vfio-pci's remove waits until its user closed the device, so the write
 * to sysfs blocks until then. The child first closes every fd it
 * inherited, or its copy of the device fd would keep the device open
 * forever. Returns the child's pid (it exits 0 once the device is gone)
 * or -1; the caller reaps it with waitpid().
 */
static pid_t pci_remove_async(const char *bdf)
{
	char path[PATH_MAX];
	long fd, max;
	pid_t pid;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/remove", bdf);
	pid = fork();
	if (pid)
		return pid;
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 ? max : 1024); fd++)
		close(fd);
	_exit(write_str(path, "1") ? 1 : 0);
}

/* Have the PCI core look for devices again: a removed one comes back */
static int pci_rescan(void)
{
	return write_str("/sys/bus/pci/rescan", "1");
}

/* Open the VFIO group of @bdf (bound to vfio-pci) */
static int open_vfio_group(const char *bdf)
{
	char path[PATH_MAX];
	int group = iommu_group_of(bdf);
	int fd;

	if (group < 0)
		return -1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", group);
		fd = open(path, O_RDWR);
	}
	return fd;
}

static bool cmdline_has(const char *word)
{
	char buf[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, word);
}

/* The guest has a VT-d (dmar0) or an AMD-Vi (ivhd0) */
static bool have_vtd(void)
{
	return access("/sys/class/iommu/dmar0", F_OK) == 0;
}

static bool have_amd_vi(void)
{
	return access("/sys/class/iommu/ivhd0", F_OK) == 0;
}

/*
 * An arm64 SMMUv3 (make check-arm64): "smmu3.<its MMIO address>". It
 * isolates MSIs with the GICv3 ITS that the machine has.
 */
static bool have_smmuv3(void)
{
	struct dirent *de;
	bool found = false;
	DIR *d;

	d = opendir("/sys/class/iommu");
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = !strncmp(de->d_name, "smmu3.", 6);
	closedir(d);
	return found;
}

/* An IOMMU, and it isolates MSIs (interrupt remapping) */
static bool have_iommu(void)
{
	return have_vtd() || have_amd_vi() || have_smmuv3();
}

static bool have_isolated_msi(void)
{
	return have_iommu() && !cmdline_has("intremap=off");
}

/*
 * Why the IOMMU of this machine does not report the DMA faults the tests
 * provoke, or NULL if it does. QEMU's AMD-Vi (a PCI function with QEMU's
 * subsystem ID, 1af4:1100) refuses such a DMA but logs no event for it:
 * in QEMU 7.2's hw/i386/amd_iommu.c, amdvi_page_walk() returns without
 * amdvi_page_fault() when an entry it reads is 0 (an unmapped IOVA), it
 * never checks the leaf's permissions (a write to a read-only mapping),
 * and a blocked device's DTE (V, TV, paging mode 0, no IR/IW: what Linux
 * sets on detach) is taken as "no remap" with no access. Only a DMA
 * refused by an entry above the leaf would be logged.
 */
#define AMDVI_QEMU_NO_EVENT                                                   \
	"QEMU 7.2's AMD-Vi logs no event for a DMA it refuses "               \
	"(hw/i386/amd_iommu.c: amdvi_page_walk() returns silently on a PTE "  \
	"of 0 and never checks a leaf's permissions)"

/*
 * QEMU's SMMUv3 records a refused DMA in its event queue, but Linux
 * 6.12's arm-smmu-v3 gives a domain's fault handler only stall events
 * (arm_smmu_handle_evt() returns -EOPNOTSUPP without EVTQ_1_STALL) and
 * only logs the rest, and QEMU 7.2's SMMUv3 never stalls (hw/arm/smmuv3.c
 * sets IDR0.STALL_MODEL to 1, "No stall")
 */
#define SMMUV3_NO_FAULT_HANDLER                                               \
	"Linux 6.12's arm-smmu-v3 reports only stall events to a domain "     \
	"(arm_smmu_handle_evt()) and QEMU 7.2's SMMUv3 never stalls "         \
	"(IDR0.STALL_MODEL 1)"

static unsigned long ivhd0_hex(const char *attr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/class/iommu/ivhd0/device/%s", attr);
	return path_hex(path);
}

static bool have_qemu_amd_vi(void)
{
	return have_amd_vi() && ivhd0_hex("subsystem_vendor") == 0x1af4 &&
	       ivhd0_hex("subsystem_device") == 0x1100;
}

static const char *iommu_faults_unreported(void)
{
	if (have_qemu_amd_vi())
		return AMDVI_QEMU_NO_EVENT;
	if (have_smmuv3())
		return SMMUV3_NO_FAULT_HANDLER;
	if (!have_vtd())
		return "the fault reports checked here are VT-d's";
	return NULL;
}

/*
 * Why the DMA of the edus behind the PCIe-to-PCI bridge does not go
 * through their group's I/O page table, or NULL if it does. Their DMA
 * carries the bridge's alias, 01:00.0; QEMU 7.2's AMD-Vi keys a device's
 * address space by the number its bus had when QEMU created the device
 * (amdvi_host_dma_iommu() keeps pci_bus_num(bus) in as->bus_num), before
 * the guest numbered the bridge's bus: every DMA of theirs is translated
 * as 00:00.0's (its trace, amdvi_translation_result, says "devid:
 * 00:00.0"), through the host bridge's domain.
 */
#define AMDVI_QEMU_BRIDGE_AS_HOST_BRIDGE                                      \
	"QEMU 7.2's AMD-Vi translates DMA from behind the bridge as "          \
	"00:00.0's (hw/i386/amd_iommu.c: amdvi_host_dma_iommu() keeps the "   \
	"bus number from before the guest numbered buses)"

static const char *iommu_bridged_dma_untranslated(void)
{
	if (have_qemu_amd_vi())
		return AMDVI_QEMU_BRIDGE_AS_HOST_BRIDGE;
	return NULL;
}

/*
 * Why the IOMMU raises no fault interrupt for a DMA it refuses, or NULL.
 * An SMMUv3 raises its event queue interrupt, although the event never
 * reaches a domain (see iommu_faults_unreported()).
 */
static const char *iommu_fault_irqs_unreported(void)
{
	return have_smmuv3() ? NULL : iommu_faults_unreported();
}

/*
 * Why the two edus behind the bridge cannot both be used, or NULL. Linux
 * 6.12's arm-smmu-v3 takes one device per StreamID, and both bridged
 * edus have the bridge's (its secondary bus, devfn 0): the probe of
 * whichever comes second fails (arm_smmu_insert_master(): "stream %u
 * already in tree") and it never gets an IOMMU group. Checked: after
 * binding both to vfio-pci, one has no group.
 */
#define SMMUV3_BRIDGED_PAIR                                                   \
	"Linux 6.12's arm-smmu-v3 takes one device per StreamID, and the "    \
	"edus behind the PCIe-to-PCI bridge share the bridge's: the second "  \
	"one's probe fails (arm_smmu_insert_master(): \"stream already in "   \
	"tree\")"

static const char *iommu_bridged_pair_unusable(const struct edu *edus)
{
	int i;

	if (!have_smmuv3())
		return NULL;
	for (i = EDU_BRIDGED; i != EDU_BRIDGED + 2; i++)
		if (bind_driver(edus[i].bdf, "vfio-pci") &&
		    iommu_group_of(edus[i].bdf) < 0)
			return SMMUV3_BRIDGED_PAIR;
	return NULL;
}

/*
 * In a test: skip the rest if @why (a reason, or NULL), as SKIP() does.
 * Used after what a test checks on every machine, a test that failed
 * already stays failed (SKIP() would overwrite its result).
 */
#define SKIP_IF_REASON(why, statement)                                        \
	do {                                                                  \
		const char *__why = (why);                                    \
		if (__why && _metadata->exit_code == KSFT_FAIL)               \
			statement;                                            \
		if (__why)                                                    \
			SKIP(statement, "%s", __why);                         \
	} while (0)

/* Skip the rest where the IOMMU reports no faults, saying why */
#define SKIP_IF_FAULTS_UNREPORTED(statement)                                  \
	SKIP_IF_REASON(iommu_faults_unreported(), statement)

/*
 * A device behind one of two IOMMU backends. Every field but @bar0 and
 * @config is an fd or an ID; -1 when not open.
 */
enum backend { BACKEND_IOASID, BACKEND_TYPE1 };

struct edu_ctx {
	enum backend backend;
	int group_fd;
	int dev_fd;
	int ioasid_fd;		/* BACKEND_IOASID */
	uint32_t ioasid;
	int container_fd;	/* BACKEND_TYPE1 */
	uint64_t bar0;		/* offsets in dev_fd */
	uint64_t config;
	void *bar0_map;		/* from edu_mmap_bar0() */
};

static int region_offset(int dev_fd, unsigned int index, uint64_t *offset,
			 uint64_t *size)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = index,
	};

	if (ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -1;
	*offset = info.offset;
	if (size)
		*size = info.size;
	return 0;
}

static int edu_bind_ioasid(int group_fd, int ioasid_fd, char *culprit,
			   size_t size)
{
	struct vfio_group_bind_ioasid_fd bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = ioasid_fd,
	};
	int rc;

	rc = ioctl(group_fd, VFIO_GROUP_BIND_IOASID_FD, &bind);
	if (culprit)
		snprintf(culprit, size, "%s", bind.out_dev_name);
	return rc;
}

static int edu_attach(int dev_fd, uint32_t ioasid, uint64_t label,
		      struct vfio_device_attach_ioasid *out)
{
	struct vfio_device_attach_ioasid attach = {
		.argsz = sizeof(attach),
		.ioasid = ioasid,
		.label = label,
	};
	int rc;

	rc = ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOASID, &attach);
	if (out)
		*out = attach;
	return rc;
}

static int edu_detach(int dev_fd)
{
	struct vfio_device_detach_ioasid detach = { .argsz = sizeof(detach) };

	return ioctl(dev_fd, VFIO_DEVICE_DETACH_IOASID, &detach);
}

/*
 * Have VFIO signal the eventfd @efd when the device is to be taken away
 * (its removal waits for the user to close the device fd): the device's
 * request interrupt, VFIO_PCI_REQ_IRQ_INDEX
 */
static int edu_set_req_eventfd(int dev_fd, int efd)
{
	/* The header, then one fd: 64-bit words keep it aligned */
	uint64_t buf[(sizeof(struct vfio_irq_set) + sizeof(int32_t) + 7) / 8];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t fd = efd;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(*set) + sizeof(fd);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_REQ_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &fd, sizeof(fd));
	return ioctl(dev_fd, VFIO_DEVICE_SET_IRQS, set);
}

/* Set the PCI bus master bit: without it the device's DMA goes nowhere */
static int edu_enable_dma(struct edu_ctx *c)
{
	uint16_t cmd;

	if (pread(c->dev_fd, &cmd, 2, c->config + PCI_COMMAND) != 2)
		return -1;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return pwrite(c->dev_fd, &cmd, 2, c->config + PCI_COMMAND) == 2 ? 0 : -1;
}

/* Open the device fd of @bdf from an already set up group */
static int edu_open_device(struct edu_ctx *c, const char *bdf)
{
	c->dev_fd = ioctl(c->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (c->dev_fd < 0)
		return -1;
	if (region_offset(c->dev_fd, VFIO_PCI_BAR0_REGION_INDEX, &c->bar0,
			  NULL) ||
	    region_offset(c->dev_fd, VFIO_PCI_CONFIG_REGION_INDEX, &c->config,
			  NULL))
		return -1;
	return edu_enable_dma(c);
}

static void edu_ctx_init(struct edu_ctx *c, enum backend backend)
{
	memset(c, 0, sizeof(*c));
	c->backend = backend;
	c->group_fd = -1;
	c->dev_fd = -1;
	c->ioasid_fd = -1;
	c->container_fd = -1;
}

/*
 * Set up @bdf (bound to vfio-pci) behind @backend, with one IOASID (or a
 * type1 container), attached under @label. Returns 0 or -1; whatever was
 * opened stays in @c for edu_close() either way.
 */
static int edu_open(struct edu_ctx *c, enum backend backend, const char *bdf,
		    uint64_t label)
{
	edu_ctx_init(c, backend);
	c->group_fd = open_vfio_group(bdf);
	if (c->group_fd < 0)
		return -1;
	if (backend == BACKEND_IOASID) {
		struct ioasid_alloc alloc = { .size = sizeof(alloc) };

		c->ioasid_fd = open("/dev/ioasid", O_RDWR);
		if (c->ioasid_fd < 0 || ioctl(c->ioasid_fd, IOASID_ALLOC, &alloc))
			return -1;
		c->ioasid = alloc.out_ioasid;
		if (edu_bind_ioasid(c->group_fd, c->ioasid_fd, NULL, 0))
			return -1;
		if (edu_open_device(c, bdf))
			return -1;
		return edu_attach(c->dev_fd, c->ioasid, label, NULL);
	}

	c->container_fd = open("/dev/vfio/vfio", O_RDWR);
	if (c->container_fd < 0 ||
	    ioctl(c->group_fd, VFIO_GROUP_SET_CONTAINER, &c->container_fd) ||
	    ioctl(c->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	return edu_open_device(c, bdf);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void edu_close(struct edu_ctx *c)
{
	close_fd(&c->dev_fd);
	close_fd(&c->group_fd);
	close_fd(&c->ioasid_fd);
	close_fd(&c->container_fd);
}

static int ioasid_map(int fd, uint32_t ioasid, void *buf, uint64_t len,
		      uint64_t iova)
{
	struct ioasid_map map = {
		.size = sizeof(map),
		.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ |
			 IOASID_MAP_WRITE,
		.ioasid = ioasid,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOASID_MAP, &map);
}

static int ioasid_unmap(int fd, uint32_t ioasid, uint64_t iova, uint64_t len)
{
	struct ioasid_unmap unmap = {
		.size = sizeof(unmap),
		.ioasid = ioasid,
		.iova = iova,
		.length = len,
	};

	return ioctl(fd, IOASID_UNMAP, &unmap);
}

/* Map @buf at @iova through whichever backend @c uses */
static int edu_map(struct edu_ctx *c, void *buf, uint64_t len, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = len,
	};

	if (c->backend == BACKEND_IOASID)
		return ioasid_map(c->ioasid_fd, c->ioasid, buf, len, iova);
	return ioctl(c->container_fd, VFIO_IOMMU_MAP_DMA, &map);
}

static int edu_unmap(struct edu_ctx *c, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};

	if (c->backend == BACKEND_IOASID)
		return ioasid_unmap(c->ioasid_fd, c->ioasid, iova, len);
	return ioctl(c->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

static int edu_reg_write(struct edu_ctx *c, uint64_t reg, uint64_t val)
{
	return pwrite(c->dev_fd, &val, 8, c->bar0 + reg) == 8 ? 0 : -1;
}

static int edu_reg_read(struct edu_ctx *c, uint64_t reg, uint64_t *val)
{
	return pread(c->dev_fd, val, 8, c->bar0 + reg) == 8 ? 0 : -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/*
 * One DMA transfer of @len bytes between the IOVA @iova and offset @off of
 * the device's buffer; @to_ram picks the direction. Waits for the device
 * to clear its busy bit (polling the register the device owns, for up to
 * 20 seconds). Returns 0, or -1 if the device could not be driven.
 */
static int edu_dma(struct edu_ctx *c, uint64_t iova, uint64_t off,
		   uint64_t len, bool to_ram)
{
	uint64_t deadline = now_ms() + 20000, cmd;

	if (len == 0 || off + len >= 4095 || iova + len > EDU_DMA_LIMIT)
		return -1;
	if (edu_reg_write(c, EDU_DMA_SRC, to_ram ? EDU_BUF + off : iova) ||
	    edu_reg_write(c, EDU_DMA_DST, to_ram ? iova : EDU_BUF + off) ||
	    edu_reg_write(c, EDU_DMA_COUNT, len) ||
	    edu_reg_write(c, EDU_DMA_CMD,
			  EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0)))
		return -1;
	do {
		if (edu_reg_read(c, EDU_DMA_CMD, &cmd))
			return -1;
		if (!(cmd & EDU_DMA_START))
			return 0;
		sched_yield();
	} while (now_ms() < deadline);
	return -1;
}

/*
 * Wait up to @ms milliseconds for @fd to be readable (an event queue, an
 * eventfd): what the tests wait on, never a sleep
 */
static bool wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/*
 * The text of the next record of the /dev/kmsg file @fd, and in @usec
 * its timestamp; NULL at the end of the log
 */
static const char *kmsg_next(int fd, char *rec, size_t size, uint64_t *usec)
{
	unsigned long long ts;
	char *text;
	ssize_t n;

	do {
		/* EPIPE: records were overwritten, the read moved past them */
		n = read(fd, rec, size - 1);
	} while (n < 0 && errno == EPIPE);
	if (n <= 0)
		return NULL;
	rec[n] = 0;
	/* "priority,sequence,timestamp,flags;text" */
	text = strchr(rec, ';');
	if (!text || sscanf(rec, "%*u,%*u,%llu", &ts) != 1)
		return "";
	*usec = ts;
	return text + 1;
}

/*
 * How many DMA-remapping fault interrupts the IOMMUs raised, from
 * /proc/interrupts ("... DMAR-MSI ... dmar0", or an SMMUv3's event queue
 * interrupt, "arm-smmu-v3-evtq"), or -1. Unlike the log, which
 * dmar_fault() ratelimits (ten lines every five seconds, three a fault),
 * this counts every fault the IOMMU reported.
 */
static int64_t dmar_fault_irqs(void)
{
	char line[1024];
	int64_t total = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;
		int64_t sum = 0;

		if (!strstr(line, "DMAR-MSI") &&
		    !strstr(line, "arm-smmu-v3-evtq"))
			continue;
		/* "IRQ:" then one count a CPU, then names */
		tok = strtok_r(line, " \t\n", &save);
		while ((tok = strtok_r(NULL, " \t\n", &save)) &&
		       tok[0] >= '0' && tok[0] <= '9')
			sum += strtoll(tok, NULL, 10);
		total = (total < 0 ? 0 : total) + sum;
	}
	fclose(f);
	return total;
}

/*
 * Wait, up to 10 seconds, for a fault interrupt after @before: the IOMMU
 * reports the fault after the device has moved on.
 */
static bool dmar_fault_seen(int64_t before)
{
	uint64_t deadline = now_ms() + 10000;

	do {
		if (dmar_fault_irqs() > before)
			return true;
		sched_yield();
	} while (now_ms() < deadline);
	return false;
}

/*
 * The kernel log from now on, for DMAR fault records: open /dev/kmsg at
 * its end, then kmsg_find() reads what came since. The log is ratelimited
 * (see dmar_fault_irqs()): only a test that runs before others make
 * faults in the same boot can count on its fault being printed.
 */
static int kmsg_open(void)
{
	int fd;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Look for a record containing @needle in what was logged since
 * kmsg_open(), waiting up to 10 seconds: the fault is reported by the
 * IOMMU's fault interrupt, after the device has moved on.
 */
static bool kmsg_find(int fd, const char *needle)
{
	uint64_t deadline = now_ms() + 10000;
	char rec[1024];
	ssize_t n;

	do {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n > 0) {
			rec[n] = 0;
			if (strstr(rec, needle))
				return true;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EPIPE)
			return false;
		sched_yield();
	} while (now_ms() < deadline);
	return false;
}

/*
 * VmPin of process @pid in KiB: its mm's pinned_vm, which counts the
 * pages pinned by MAPs that process made, or -1. Only open() and read(),
 * so that a child of a threaded process may call it.
 */
static long vm_pin_kb(pid_t pid)
{
	char path[64], status[4096], *line;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, status, sizeof(status) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	status[n] = 0;
	line = strstr(status, "\nVmPin:");
	return line ? strtol(line + 7, NULL, 10) : -1;
}

/*
 * A zeroed DMA buffer of @len bytes in small pages, so that every page is
 * a run of its own; NULL if there is no memory
 */
static inline void *edu_buf_alloc(size_t len)
{
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		return NULL;
	madvise(buf, len, MADV_NOHUGEPAGE);
	memset(buf, 0, len);
	return buf;
}

/* Bytes a DMA must carry unchanged, different for each @seed */
static inline void edu_pattern(void *p, size_t len, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i != len; i++)
		c[i] = (unsigned char)(seed * 31 + i * 5);
}

#endif
