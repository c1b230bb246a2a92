// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO with /dev/ioasid on machines that cannot isolate a device: an
 * IOMMU that does not isolate its MSIs, no IOMMU at all (VFIO's unsafe
 * no-IOMMU mode), and the same locked down. What an ioasid fd must
 * refuse there, or allow only when told to.
 *
 * Each fixture is for one way of booting (scripts/vm.sh's nointremap,
 * noiommu and lockdown profiles), and main() runs the one of the boot it
 * finds (boot_utils.h). On a machine that isolates devices there is
 * nothing to refuse, and nothing runs: the device tests are in
 * vfio_ioasid.c.
 */
#include <linux/capability.h>
#include <sys/syscall.h>

#include "boot_utils.h"

/* An IOMMU without interrupt remapping: MSIs are not isolated */
FIXTURE(edu_msi)
{
	struct edu edus[4];
	int group_fd, ioasid_fd;
};

FIXTURE_SETUP(edu_msi)
{
	self->group_fd = -1;
	self->ioasid_fd = -1;
	if (!have_iommu() || have_isolated_msi())
		SKIP(return, "needs an IOMMU without interrupt remapping (intremap=off)");
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[0].bdf, "vfio-pci"));
	self->group_fd = open_vfio_group(self->edus[0].bdf);
	ASSERT_LE(0, self->group_fd);
	self->ioasid_fd = open(IOASID_DEV, O_RDWR);
	ASSERT_LE(0, self->ioasid_fd);
}

FIXTURE_TEARDOWN(edu_msi)
{
	write_str("/sys/module/ioasid_fd/parameters/allow_unsafe_interrupts",
		  "N");
	close(self->group_fd);
	close(self->ioasid_fd);
}

#define TAINT_USER_BIT 0x40UL	/* 'U' */

static unsigned long kernel_taint(void)
{
	unsigned long val = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	if (f) {
		if (fscanf(f, "%lu", &val) != 1)
			val = 0;
		fclose(f);
	}
	return val;
}

TEST_F(edu_msi, bind_refuses_unisolated_msi_unless_allowed)
{
	char culprit[64] = "";

	EXPECT_ERRNO(EPERM, edu_bind_ioasid(self->group_fd, self->ioasid_fd,
					    culprit, sizeof(culprit)));
	EXPECT_STREQ(self->edus[0].bdf, culprit);

	ASSERT_EQ(0, write_str("/sys/module/ioasid_fd/parameters/allow_unsafe_interrupts",
			       "Y"));
	ASSERT_EQ(0, edu_bind_ioasid(self->group_fd, self->ioasid_fd, NULL, 0));
	EXPECT_TRUE(kernel_taint() & TAINT_USER_BIT);
}

/* No IOMMU, VFIO's no-IOMMU mode on, not locked down */
FIXTURE(noiommu)
{
	struct edu edus[4];
};

/* Why this is not a boot without an IOMMU in VFIO's no-IOMMU mode */
static const char *not_noiommu(void)
{
	if (have_iommu())
		return "needs a boot without an IOMMU";
	if (!noiommu_mode())
		return "needs vfio.enable_unsafe_noiommu_mode=1";
	return NULL;
}

FIXTURE_SETUP(noiommu)
{
	const char *why = not_noiommu();

	if (why)
		SKIP(return, "%s", why);
	if (locked_down())
		SKIP(return, "locked down: the group cannot even be opened");
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[0].bdf, "vfio-pci"));
}

FIXTURE_TEARDOWN(noiommu)
{
}

TEST_F(noiommu, ioasid_never_binds_a_no_iommu_group)
{
	int group_fd, ioasid_fd;

	group_fd = open_vfio_group(self->edus[0].bdf);
	ASSERT_LE(0, group_fd);
	ioasid_fd = open(IOASID_DEV, O_RDWR);
	ASSERT_LE(0, ioasid_fd);
	EXPECT_ERRNO(EINVAL, edu_bind_ioasid(group_fd, ioasid_fd, NULL, 0));
	close(ioasid_fd);
	close(group_fd);
}

/* The same, locked down */
FIXTURE(noiommu_lockdown)
{
	struct edu edus[4];
};

FIXTURE_SETUP(noiommu_lockdown)
{
	const char *why = not_noiommu();

	if (why)
		SKIP(return, "%s", why);
	if (!locked_down())
		SKIP(return, "needs lockdown=integrity");
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[0].bdf, "vfio-pci"));
}

FIXTURE_TEARDOWN(noiommu_lockdown)
{
}

TEST_F(noiommu_lockdown, lockdown_refuses_no_iommu_mode_even_to_root)
{
	int group_fd, kmsg;

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	/* We are root, with CAP_SYS_RAWIO: only lockdown can refuse */
	group_fd = open_vfio_group(self->edus[0].bdf);
	EXPECT_EQ(-1, group_fd);
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(kmsg_find(kmsg, "VFIO no-IOMMU mode is restricted"));
	close(kmsg);
	if (group_fd >= 0)
		close(group_fd);
}

/*
 * Lockdown is asked before the capability: a caller without
 * CAP_SYS_RAWIO is refused for lockdown as well, and the log says so,
 * rather than the refusal passing as a missing capability. The harness
 * runs each test in a child of its own, so the capability is dropped
 * for this test only.
 */
TEST_F(noiommu_lockdown, lockdown_is_checked_before_the_capability)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int group_fd, kmsg;

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, syscall(SYS_capget, &hdr, data));
	data[CAP_SYS_RAWIO / 32].effective &= ~(1U << (CAP_SYS_RAWIO % 32));
	ASSERT_EQ(0, syscall(SYS_capset, &hdr, data));

	group_fd = open_vfio_group(self->edus[0].bdf);
	EXPECT_EQ(-1, group_fd);
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(kmsg_find(kmsg, "VFIO no-IOMMU mode is restricted"));
	close(kmsg);
	if (group_fd >= 0)
		close(group_fd);
}

static const struct boot_fixture boot_fixtures[] = {
	{ "edu_msi", BOOT_NOINTREMAP },
	{ "noiommu", BOOT_NOIOMMU },
	{ "noiommu_lockdown", BOOT_LOCKDOWN },
};

int main(int argc, char **argv)
{
	return boot_harness_run(argc, argv, boot_fixtures,
				ARRAY_SIZE(boot_fixtures));
}
