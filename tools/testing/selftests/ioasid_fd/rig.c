// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test machine itself: the device tests rely on four QEMU "edu"
 * devices (1234:11e8), two alone on the root bus, each in an IOMMU group
 * of its own, and two behind a PCIe-to-PCI bridge, where they cannot be
 * isolated from each other and so share one IOMMU group. If this fails,
 * the rig is wrong, not the code under test.
 */
#include "boot_utils.h"

FIXTURE(rig)
{
	/* One more than expected, so that an extra edu is seen too */
	struct edu edus[NUM_EDUS + 1];
	int n;
};

FIXTURE_SETUP(rig)
{
	/* find_edus() sorts by address: the root-bus edus come first */
	self->n = find_edus(self->edus, NUM_EDUS + 1);
	ASSERT_EQ(NUM_EDUS, self->n);
}

FIXTURE_TEARDOWN(rig)
{
}

TEST_F(rig, four_edu_devices_two_on_the_root_bus)
{
	int i;

	for (i = 0; i != self->n; i++)
		TH_LOG("edu %s bus %u group %d", self->edus[i].bdf,
		       self->edus[i].bus, self->edus[i].group);
	EXPECT_EQ(0, self->edus[EDU_ROOT_A].bus);
	EXPECT_EQ(0, self->edus[EDU_ROOT_B].bus);
	EXPECT_NE(0, self->edus[EDU_BRIDGED].bus);
	EXPECT_NE(0, self->edus[EDU_BRIDGED + 1].bus);
}

/* IOMMU groups: only a boot with an IOMMU has them */
FIXTURE(rig_groups)
{
	struct edu edus[NUM_EDUS];
};

FIXTURE_SETUP(rig_groups)
{
	int i;

	if (!have_iommu())
		SKIP(return, "needs an IOMMU: there are no groups without one");
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	if (!have_smmuv3())
		return;
	/*
	 * On arm64's device tree a device joins its IOMMU group only when a
	 * driver probes it (of_dma_configure() in really_probe()), and edu
	 * has no driver: bind them all, then look again
	 */
	for (i = 0; i != NUM_EDUS; i++)
		bind_driver(self->edus[i].bdf, "vfio-pci");
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
}

FIXTURE_TEARDOWN(rig_groups)
{
}

TEST_F(rig_groups, root_bus_edu_devices_have_a_group_each)
{
	const struct edu *e = self->edus;

	EXPECT_NE(-1, e[EDU_ROOT_A].group);
	EXPECT_NE(e[EDU_ROOT_A].group, e[EDU_ROOT_B].group);
	EXPECT_NE(e[EDU_ROOT_A].group, e[EDU_BRIDGED].group);
	EXPECT_NE(e[EDU_ROOT_B].group, e[EDU_BRIDGED].group);
}

TEST_F(rig_groups, bridged_edu_devices_share_a_group)
{
	const struct edu *e = self->edus;

	SKIP_IF_REASON(iommu_bridged_pair_unusable(e), return);
	EXPECT_NE(-1, e[EDU_BRIDGED].group);
	EXPECT_EQ(e[EDU_BRIDGED].bus, e[EDU_BRIDGED + 1].bus);
	EXPECT_EQ(e[EDU_BRIDGED].group, e[EDU_BRIDGED + 1].group);
}

/*
 * The IOMMU the boot asked for (scripts/vm.sh: intel_iommu=on for VT-d,
 * amd_iommu= for AMD-Vi) is the one the kernel drives, and it translates:
 * the edus' groups have DMA domains (DMA or DMA-FQ), not identity ones.
 */
TEST_F(rig_groups, the_iommu_asked_for_translates)
{
	char path[PATH_MAX], type[32] = "";
	FILE *f;
	int i;

	if (cmdline_has("intel_iommu=on"))
		EXPECT_TRUE(have_vtd());
	if (cmdline_has("amd_iommu="))
		EXPECT_TRUE(have_amd_vi());
	for (i = 0; i != NUM_EDUS; i++) {
		/* The bridged edu arm-smmu-v3 refused has no group */
		if (self->edus[i].group < 0 &&
		    iommu_bridged_pair_unusable(self->edus))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/type",
			 self->edus[i].group);
		f = fopen(path, "r");
		ASSERT_NE(NULL, f);
		if (!fgets(type, sizeof(type), f))
			type[0] = 0;
		fclose(f);
		TH_LOG("edu %s group %d: %.*s", self->edus[i].bdf,
		       self->edus[i].group, (int)strcspn(type, "\n"), type);
		EXPECT_EQ(0, strncmp(type, "DMA", 3));
	}
}

static const struct boot_fixture boot_fixtures[] = {
	{ "rig", BOOT_ANY },
	{ "rig_groups", BOOT_IOMMU },
};

int main(int argc, char **argv)
{
	return boot_harness_run(argc, argv, boot_fixtures,
				ARRAY_SIZE(boot_fixtures));
}
