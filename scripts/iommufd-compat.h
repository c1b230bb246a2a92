/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Included first (-include) by scripts/build-tests.sh when it builds the
 * kernel's own iommufd selftests from the 6.12 tree.
 *
 * Debian's linux-source-6.12 carries stable updates of
 * tools/testing/selftests/iommu whose helpers name uAPI that the 6.12
 * kernel beside them does not have: IOMMU_GET_HW_INFO's input data type
 * (upstream 6.16) and the mock's PASID-capable device (6.15). Without
 * these names the tests do not compile; with them they compile, and the
 * few tests that use those features fail on the unpatched 6.12 kernel as
 * on ours, so scripts/check.sh leaves them out by name (see there).
 * Nothing here changes what a test sends for a feature 6.12 has.
 */
#ifndef IOMMUFD_COMPAT_H
#define IOMMUFD_COMPAT_H

/*
 * Upstream turned out_data_type into a union with in_data_type; 6.12
 * ignores the field on input, and refuses the flag that gives it meaning.
 */
#define in_data_type out_data_type
#define IOMMU_HW_INFO_TYPE_DEFAULT 0		/* IOMMU_HW_INFO_TYPE_NONE */
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE (1 << 0)

/* The mock's PASID support: 6.12's mock refuses the flag */
#define MOCK_FLAGS_DEVICE_PASID (1 << 2)
#define MOCK_PASID_WIDTH 20

#endif
