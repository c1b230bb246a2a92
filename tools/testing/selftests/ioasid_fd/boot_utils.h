/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ways the guest is booted (scripts/vm.sh profiles), for the test
 * programs whose fixtures each mean something on one of them only: with
 * an IOMMU that isolates MSIs, with one that does not, without an IOMMU
 * (VFIO's no-IOMMU mode), and the same locked down.
 *
 * Such a program's main() calls boot_harness_run() with a table of the
 * boots each fixture is for. Run without arguments, it runs the fixtures
 * meant for the boot it finds and no other: the others belong to another
 * boot, they are not skipped tests of this one. Run with harness
 * arguments (-r, -f, -l, ...), it runs what they select, and a fixture
 * away from its boot skips, saying what it needs.
 */
#ifndef __SELFTEST_BOOT_UTILS_H
#define __SELFTEST_BOOT_UTILS_H

#include "edu_utils.h"

enum boot {
	BOOT_ISOLATED = 1 << 0,		/* an IOMMU, MSIs isolated */
	BOOT_NOINTREMAP = 1 << 1,	/* an IOMMU, MSIs not isolated */
	BOOT_NOIOMMU = 1 << 2,		/* no IOMMU, VFIO's no-IOMMU mode */
	BOOT_LOCKDOWN = 1 << 3,		/* the same, locked down */
};

#define BOOT_IOMMU (BOOT_ISOLATED | BOOT_NOINTREMAP)
#define BOOT_ANY (BOOT_IOMMU | BOOT_NOIOMMU | BOOT_LOCKDOWN)

struct boot_fixture {
	const char *name;
	unsigned int boots;	/* BOOT_*: where its tests mean something */
};

static bool noiommu_mode(void)
{
	char val[4] = "";
	FILE *f;

	f = fopen("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
		  "r");
	if (!f)
		return false;
	if (!fgets(val, sizeof(val), f))
		val[0] = 0;
	fclose(f);
	return val[0] == 'Y';
}

static bool locked_down(void)
{
	return cmdline_has("lockdown=integrity") ||
	       cmdline_has("lockdown=confidentiality");
}

/* The boot this is, or 0 if it is none of them */
static unsigned int this_boot(void)
{
	if (have_iommu())
		return have_isolated_msi() ? BOOT_ISOLATED : BOOT_NOINTREMAP;
	if (!noiommu_mode())
		return 0;
	return locked_down() ? BOOT_LOCKDOWN : BOOT_NOIOMMU;
}

static const char *boot_name(unsigned int boot)
{
	switch (boot) {
	case BOOT_ISOLATED:
		return "an IOMMU that isolates MSIs";
	case BOOT_NOINTREMAP:
		return "an IOMMU without interrupt remapping";
	case BOOT_NOIOMMU:
		return "no IOMMU, VFIO's no-IOMMU mode";
	case BOOT_LOCKDOWN:
		return "no IOMMU, VFIO's no-IOMMU mode, locked down";
	}
	return "none the tests know";
}

/*
 * The table must name every fixture of the program, and nothing else: a
 * fixture left out would never run, a name that is no fixture's would
 * select nothing.
 */
static bool boot_table_is_complete(const struct boot_fixture *table,
				   size_t n)
{
	struct __fixture_metadata *f;
	bool ok = true;
	size_t i;

	for (f = __fixture_list; f; f = f->next) {
		for (i = 0; i != n && strcmp(table[i].name, f->name); i++)
			;
		if (i == n && f->tests) {
			ksft_print_msg("fixture %s is for no boot\n", f->name);
			ok = false;
		}
	}
	for (i = 0; i != n; i++) {
		for (f = __fixture_list; f; f = f->next)
			if (!strcmp(table[i].name, f->name))
				break;
		if (!f) {
			ksft_print_msg("no fixture %s\n", table[i].name);
			ok = false;
		}
	}
	return ok;
}

static int boot_harness_run(int argc, char **argv,
			    const struct boot_fixture *table, size_t n)
{
	unsigned int boot;
	char **args;
	int nargs = 0;
	size_t i;

	if (!boot_table_is_complete(table, n))
		return KSFT_FAIL;
	boot = this_boot();
	/* Asked for something, or on an unknown boot: let each setup say */
	if (argc > 1 || !boot)
		return test_harness_run(argc, argv);

	args = calloc(2 * n + 2, sizeof(*args));
	if (!args)
		return KSFT_FAIL;
	args[nargs++] = argv[0];
	for (i = 0; i != n; i++) {
		if (!(table[i].boots & boot))
			continue;
		args[nargs++] = "-f";
		args[nargs++] = (char *)table[i].name;
	}
	if (nargs == 1) {
		ksft_print_header();
		ksft_print_msg("no test here for a boot with %s\n",
			       boot_name(boot));
		ksft_set_plan(0);
		ksft_finished();
	}
	return test_harness_run(nargs, args);
}

#endif
