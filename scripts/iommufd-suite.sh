# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
# Sourced by check.sh and series-check.sh: how the rig runs the kernel's
# own iommufd selftests (tools/testing/selftests/iommu of the 6.12 tree,
# built by build-tests.sh with scripts/iommufd-compat.h).
#
# They run in the noiommu boot. In 6.12 a device without a fwspec, as
# iommufd's mock devices are, is probed by the first IOMMU on the core's
# list whose firmware node matches a NULL one (iommu_fwspec_ops(NULL)):
# VT-d and AMD-Vi register without a firmware node and before iommufd's
# mock, so behind either of them every mock device is offered to the
# hardware driver, which refuses it, and every test that creates a mock
# domain fails at IOMMU_TEST_OP_MOCK_DOMAIN, on the unpatched kernel as
# on ours. With no hardware IOMMU the mock is the only candidate.
IOMMUFD_TESTS="iommufd iommufd_fail_nth"

# Left out, as they fail on the unpatched 6.12 kernel as on ours: they
# use uAPI that Debian's copy of the tests has from later kernels
# (scripts/iommufd-compat.h), which 6.12 refuses (the mock any device
# flag but NO_DIRTY and HUGE_IOVA, in drivers/iommu/iommufd/selftest.c;
# IOMMU_GET_HW_INFO any flag, in device.c). Our patches touch neither.
#  -V mock_domain: iommufd_ioas's mock_domain variant creates a
#   PASID-capable mock device (6.15) in its setup, so all 26 of its tests
#   fail there; two_mock_domain and mock_domain_limit run the same tests
#   on mock domains.
#  -T get_hw_info: asks IOMMU_GET_HW_INFO for a given data type (6.16).
#   The harness names no fixture or variant with -T: the no-domain
#   variant's get_hw_info, which passes, is left out with the rest.
RIG_ARGS_iommufd="-V mock_domain -T get_hw_info"
export RIG_ARGS_iommufd

# iommufd_dirty_tracking's 64M and 128M hugetlb variants need 64 huge
# pages of 2 MiB free at once; the guest reserves 16 otherwise.
IOMMUFD_HUGEPAGES=72
