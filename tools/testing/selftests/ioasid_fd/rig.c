// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test machine itself: the device tests rely on three QEMU "edu"
 * devices (1234:11e8), one alone on the root bus and two behind a
 * PCIe-to-PCI bridge, where they cannot be isolated from each other and
 * so share one IOMMU group. If this fails, the rig is wrong, not the
 * code under test.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"

#define PCI_DEVICES "/sys/bus/pci/devices"

struct edu {
	char bdf[NAME_MAX + 1];
	int bus;
	int group;	/* -1 when the device has no IOMMU group */
};

static unsigned long read_hex(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static int iommu_group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t len;
	char *slash;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return -1;
	link[len] = 0;
	slash = strrchr(link, '/');
	return atoi(slash ? slash + 1 : link);
}

/* Fill @edus with up to @max edu devices, in bus order; return the count */
static int find_edus(struct edu *edus, int max)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(PCI_DEVICES);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		unsigned int dom, bus, dev, fn;

		if (sscanf(de->d_name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
			continue;
		if (read_hex(de->d_name, "vendor") != 0x1234 ||
		    read_hex(de->d_name, "device") != 0x11e8)
			continue;
		if (n == max)
			break;
		snprintf(edus[n].bdf, sizeof(edus[n].bdf), "%s", de->d_name);
		edus[n].bus = bus;
		edus[n].group = iommu_group_of(de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

FIXTURE(rig)
{
	struct edu edus[4];
	int n;
	int root;	/* index of the edu on the root bus */
};

FIXTURE_SETUP(rig)
{
	int i;

	self->n = find_edus(self->edus, 4);
	ASSERT_EQ(3, self->n);
	self->root = -1;
	for (i = 0; i != self->n; i++) {
		if (self->edus[i].bus == 0) {
			ASSERT_EQ(-1, self->root);
			self->root = i;
		}
	}
	ASSERT_NE(-1, self->root);
}

FIXTURE_TEARDOWN(rig)
{
}

TEST_F(rig, three_edu_devices_one_on_the_root_bus)
{
	int i;

	for (i = 0; i != self->n; i++)
		TH_LOG("edu %s bus %d group %d", self->edus[i].bdf,
		       self->edus[i].bus, self->edus[i].group);
	/* Checked by the fixture; log what was found for later tests */
	EXPECT_EQ(3, self->n);
}

TEST_F(rig, bridged_edu_devices_share_a_group)
{
	int a = -1, b = -1, i;

	for (i = 0; i != self->n; i++) {
		if (i == self->root)
			continue;
		if (a == -1)
			a = i;
		else
			b = i;
	}
	if (self->edus[a].group == -1)
		SKIP(return, "no IOMMU in this boot");

	EXPECT_EQ(self->edus[a].bus, self->edus[b].bus);
	EXPECT_EQ(self->edus[a].group, self->edus[b].group);
	EXPECT_NE(self->edus[self->root].group, self->edus[a].group);
}

TEST_HARNESS_MAIN
