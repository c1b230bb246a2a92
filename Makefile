# SPDX-License-Identifier: GPL-2.0
#
# /dev/ioasid prototype. The two commands that matter (see README.md):
#   make run     boot the guest and run the demo
#   make check   build everything and run every selftest in the guest
#
# Kbuild (not this file) is what "make -C $KDIR M=$PWD" reads.

CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ioasid-fd
KSRC ?= $(CACHE)/linux-source-6.12
# DEBUG=1 (or "make check-debug"): the debug kernel, scripts/debug.config
# on top of the normal one's fragments, built and run beside it
ifneq ($(filter check-debug,$(MAKECMDGOALS)),)
override DEBUG := 1
endif
# make boot-loop boots the debug kernel unless DEBUG=0
ifneq ($(filter boot-loop,$(MAKECMDGOALS)),)
DEBUG ?= 1
ifeq ($(DEBUG),0)
override DEBUG :=
endif
endif
ifeq ($(DEBUG),1)
KOBJ ?= $(CACHE)/build-debug
OUT ?= $(CACHE)/out-debug
endif
# ARCH=arm64 (or "make check-arm64"): the arm64 kernel on QEMU's SMMUv3,
# cross-built beside the x86 one (see scripts/env.sh)
ifneq ($(filter check-arm64,$(MAKECMDGOALS)),)
override ARCH := arm64
endif
ifeq ($(ARCH),arm64)
KOBJ ?= $(CACHE)/build-arm64
OUT ?= $(CACHE)/out-arm64
export ARCH
endif
KOBJ ?= $(CACHE)/build
OUT ?= $(CACHE)/out
export CACHE KSRC KOBJ OUT DEBUG

# The newest Debian 6.12 generic headers; KDIR=$(KOBJ) builds against ours
KDIR ?= $(lastword $(sort $(filter-out %-rt-amd64 %-cloud-amd64, \
	$(wildcard /usr/src/linux-headers-6.12.*-amd64))))

.PHONY: help deps kernel selftests check check-debug run shell bench profile modules lint docs clean
.PHONY: mutants check-arm64 boot-loop

help:
	@echo "make run        boot the guest and run the demo (installs what it needs)"
	@echo "make check      build the kernel and selftests, run them in the guest"
	@echo "                T='prog ...' ARGS='-r fixture.variant.test' PROFILES='...'"
	@echo "make check-debug the same on the debug kernel (KASAN, kmemleak, UBSAN,"
	@echo "                lockdep); DEBUG=1 does that for any target"
	@echo "make check-arm64 an arm64 kernel, cross-built, on QEMU's SMMUv3"
	@echo "make boot-loop  boot each profile of the debug kernel N=10 times, refuse"
	@echo "                any report (DEBUG=0: the normal kernel)"
	@echo "make shell      a shell in the guest"
	@echo "make bench      compare type1, iommufd and /dev/ioasid (one boot)"
	@echo "make profile    perf profiles of the slow ioasid bench cases (one boot)"
	@echo "make deps       install the Debian packages the rig needs"
	@echo "make kernel     build the prototype kernel in $(KOBJ)"
	@echo "make modules    build the core out of tree (KDIR=$(KDIR))"
	@echo "make lint       checkpatch, sparse and kernel-doc"
	@echo "make docs       the user guide, in HTML (the kernel's userspace-api book)"
	@echo "make mutants    each security rule's test fails without its check (slow;"
	@echo "                takes the rig lock itself)"
	@echo "make series     the tree as a patch series on Debian's 6.12 source"
	@echo "make series-check  git am, build and checkpatch each patch (slow)"

# Results in $(CACHE)/series/ (see README.md, The patch series)
.PHONY: series series-check
series: deps
	scripts/series.sh

series-check: series
	scripts/series-check.sh

deps:
	scripts/deps.sh

kernel: deps
	scripts/kernel.sh

selftests: kernel
	scripts/build-tests.sh

check:
	scripts/check.sh

check-debug: check

# The arm64 kernel and selftests on QEMU's virt machine with an SMMUv3
check-arm64:
	scripts/check-arm64.sh

run: selftests
	scripts/vm.sh run

# N boots of each profile, to /init and off; no tests (README.md, "The
# debug kernel")
boot-loop: selftests
	scripts/boot-loop.sh

shell: selftests
	scripts/vm.sh shell

# One boot; results in $(CACHE)/bench/<date>/ (see README.md, Benchmark)
bench: selftests
	scripts/bench.sh

# One boot; perf in the guest; reports in $(CACHE)/profile/<date>/
profile: selftests
	scripts/profile.sh

modules: deps
	@test -n "$(KDIR)" || { echo "no linux-headers-6.12.*-amd64: make deps"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_IOASID_FD=m W=1 KCFLAGS=-Werror modules

lint:
	scripts/lint.sh

# HTML in $(CACHE)/docs/ (see README.md, Documentation)
docs: deps
	scripts/docs.sh

# Rebuilds the kernel once per mutant (not in .ci/run); holds /tmp/rig.lock
mutants:
	scripts/mutants.sh

clean:
	@test -z "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(OUT)
