// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test machine itself: the device tests rely on three QEMU "edu"
 * devices (1234:11e8), one alone on the root bus and two behind a
 * PCIe-to-PCI bridge, where they cannot be isolated from each other and
 * so share one IOMMU group. If this fails, the rig is wrong, not the
 * code under test.
 */
#include "edu_utils.h"

FIXTURE(rig)
{
	struct edu edus[4];
	int n;
};

FIXTURE_SETUP(rig)
{
	/* find_edus() sorts by address: the root-bus edu comes first */
	self->n = find_edus(self->edus, 4);
	ASSERT_EQ(3, self->n);
}

FIXTURE_TEARDOWN(rig)
{
}

TEST_F(rig, three_edu_devices_one_on_the_root_bus)
{
	int i;

	for (i = 0; i != self->n; i++)
		TH_LOG("edu %s bus %u group %d", self->edus[i].bdf,
		       self->edus[i].bus, self->edus[i].group);
	EXPECT_EQ(0, self->edus[0].bus);
	EXPECT_NE(0, self->edus[1].bus);
	EXPECT_NE(0, self->edus[2].bus);
}

TEST_F(rig, bridged_edu_devices_share_a_group)
{
	if (self->edus[1].group == -1)
		SKIP(return, "no IOMMU in this boot");

	EXPECT_EQ(self->edus[1].bus, self->edus[2].bus);
	EXPECT_EQ(self->edus[1].group, self->edus[2].group);
	EXPECT_NE(self->edus[0].group, self->edus[1].group);
}

TEST_HARNESS_MAIN
