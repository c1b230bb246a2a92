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
	if (!have_iommu())
		SKIP(return, "needs an IOMMU: there are no groups without one");
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

	EXPECT_NE(-1, e[EDU_BRIDGED].group);
	EXPECT_EQ(e[EDU_BRIDGED].bus, e[EDU_BRIDGED + 1].bus);
	EXPECT_EQ(e[EDU_BRIDGED].group, e[EDU_BRIDGED + 1].group);
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
