#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make mutants: show that each security rule's refusal test fails when
# the check it tests is removed. For each mutant below: apply its diff
# (one file of $KSRC), rebuild the kernel incrementally, boot the profile
# the test needs with only that test, and require the test to fail
# ("not ok"; a pass, a skip or no result means the mutant survived).
# Then restore the file, rebuild the pristine kernel and run the same
# tests once more, where they must pass.
#
# It holds the rig lock (/tmp/rig.lock, or RIG_LOCK) for its whole run,
# as it changes the shared kernel tree: run it without an outer flock.
# It rebuilds the kernel once per mutant, so it is not part of .ci/run.
#
# Our files in $KSRC are symlinks into the repository: a mutant of one
# replaces the link by a mutated copy (the repository is never written)
# and the restore puts the link back and deletes the mutant's object,
# whose mtime is newer than the restored source's. An upstream file is
# backed up, mutated in place and copied back (mtime now: what was built
# from the mutant is rebuilt). The restore runs on any exit; a run killed
# outright leaves $CACHE/mutants/pending, which the next kernel.sh (this
# script's next run, or anyone's build) restores first ("mutants.sh
# restore", under the caller's lock): its children keep the lock until
# they end. Between mutants the tree is built with KSRC_READY=1, so that
# kernel.sh neither relinks our files nor re-applies patches/.
#
# Per mutant: logs in $CACHE/mutants/<name>/ (build.log and the boot's
# tap.log, kernel.log, summary).
set -uo pipefail
. "$(dirname "$0")/env.sh"

MDIR=$CACHE/mutants
PENDING=$MDIR/pending
# A mutant can hang the guest: do not wait vm.sh's 25 minutes for it
[ -n "$DEBUG" ] || export RIG_TIMEOUT=${RIG_TIMEOUT:-600}
export RIG_TEST_TIMEOUT=${RIG_TEST_TIMEOUT:-300}

declare -a NAMES
declare -A RULE LABEL PROFILE PROG TESTS

# mutant NAME RULE LABEL PROFILE PROG "TEST ..." < unified diff of one file
mutant()
{
	NAMES+=("$1")
	RULE[$1]=$2 LABEL[$1]=$3 PROFILE[$1]=$4 PROG[$1]=$5 TESTS[$1]=$6
	mkdir -p "$MDIR/$1"
	cat > "$MDIR/$1/mutant.diff"
}

# Group viability. A kernel driver that does its own DMA (not
# driver_managed_dma) counts as an owner of its group in the IOMMU core;
# iommu_group_claim_dma_owner(), which iofd_group_claim() calls for
# VFIO_GROUP_BIND_IOASID_FD, refuses a group with any owner. That count is
# the check: neither drivers/vfio/ioasid.c nor group.c has another.
mutant viability "group viability" "iommu.c: claim ignores owner_cnt" \
	default vfio_ioasid \
	"edu_group.bind_refuses_a_group_a_kernel_driver_uses" <<'EOF'
--- a/drivers/iommu/iommu.c
+++ b/drivers/iommu/iommu.c
@@ -3262,3 +3262,3 @@ int iommu_group_claim_dma_owner(struct iommu_group *group, void *owner)
 	mutex_lock(&group->mutex);
-	if (group->owner_cnt) {
+	if (false) {
 		ret = -EPERM;
EOF

# MSI isolation: without interrupt remapping, a group is refused unless
# allow_unsafe_interrupts. One helper serves bind (group claim) and the
# device bind behind it.
mutant msi "MSI isolation" "device.c: unisolated MSIs allowed" \
	nointremap vfio_unsafe \
	"edu_msi.bind_refuses_unisolated_msi_unless_allowed" <<'EOF'
--- a/drivers/iommu/ioasid/device.c
+++ b/drivers/iommu/ioasid/device.c
@@ -124,3 +124,3 @@ static int iofd_check_msi(struct iommu_group *group)
 		return 0;
-	if (!allow_unsafe_interrupts)
+	if (false)
 		return -EPERM;
EOF

# No-IOMMU mode under lockdown (patches/0002, 0003), two ways: lockdown
# not asked at all (upstream's check), and asked after the capability.
# Root passes the capability either way, so the order only shows to a
# caller without CAP_SYS_RAWIO: refused either way, but with it first
# not for lockdown, and not logged as such. Only the second test can
# tell, so the second mutant runs only that one.
mutant lockdown "no-IOMMU under lockdown" "vfio.h: lockdown not asked" \
	lockdown vfio_unsafe \
	"noiommu_lockdown.lockdown_refuses_no_iommu_mode_even_to_root noiommu_lockdown.lockdown_is_checked_before_the_capability" <<'EOF'
--- a/drivers/vfio/vfio.h
+++ b/drivers/vfio/vfio.h
@@ -56,3 +56,3 @@ static inline int vfio_noiommu_allowed(void)
 
-	ret = security_locked_down(LOCKDOWN_VFIO_NOIOMMU);
+	ret = 0;
 	if (ret)
EOF

mutant lockdown_order "no-IOMMU under lockdown" "vfio.h: capable() first" \
	lockdown vfio_unsafe \
	"noiommu_lockdown.lockdown_is_checked_before_the_capability" <<'EOF'
--- a/drivers/vfio/vfio.h
+++ b/drivers/vfio/vfio.h
@@ -56,6 +56,6 @@ static inline int vfio_noiommu_allowed(void)
 
+	if (!capable(CAP_SYS_RAWIO))
+		return -EPERM;
 	ret = security_locked_down(LOCKDOWN_VFIO_NOIOMMU);
-	if (ret)
-		return ret;
-	return capable(CAP_SYS_RAWIO) ? 0 : -EPERM;
+	return ret;
 }
EOF

# PFNMAP/MMIO. pages.c has no check of its own: it pins with GUP, which
# refuses VM_IO/VM_PFNMAP VMAs in check_vma_flags() (-EFAULT), so that
# is the check mutated here. It is not the only refusal: past it,
# follow_page_pte() finds a special PTE with no struct page and GUP
# fails with -EEXIST, as it must, since pinning needs a struct page. So
# the test fails on its errno (EFAULT expected), and the BAR stays
# unmapped: removing that second refusal is not a mutation but a new
# feature (a PFN path in pages.c, as type1's follow_fault_pfn()).
mutant pfnmap "PFNMAP/MMIO refused" "gup.c: VM_IO|VM_PFNMAP let through" \
	default vfio_ioasid \
	"edu_ioasid.map_of_a_device_bar_is_refused" <<'EOF'
--- a/mm/gup.c
+++ b/mm/gup.c
@@ -1276,3 +1276,3 @@ static int check_vma_flags(struct vm_area_struct *vma, unsigned long gup_flags)
 
-	if (vm_flags & (VM_IO | VM_PFNMAP))
+	if (false)
 		return -EFAULT;
EOF

# Memlock accounting: the charge never exceeds the limit (RLIMIT_MEMLOCK,
# none with CAP_IPC_LOCK, or the selftest's).
mutant memlock "memlock accounting" "pages.c: charge ignores the limit" \
	default ioasid_fd \
	"ioasid_attached_unlimited.one_mock_device.memlock_limit_is_enforced_and_a_refused_map_pins_nothing ioasid_fd.rlimit_memlock_binds_unless_cap_ipc_lock" <<'EOF'
--- a/drivers/iommu/ioasid/pages.c
+++ b/drivers/iommu/ioasid/pages.c
@@ -50,3 +50,3 @@ static int iofd_acct_charge(const struct iofd_acct *acct,
 	do {
-		if (check_add_overflow(cur, npages, &new) || new > acct->limit)
+		if (check_add_overflow(cur, npages, &new))
 			return -ENOMEM;
EOF

# Two findings of the review in issue 11, undone the way the code had
# them, each against its userfaultfd regression test: IOVA_RANGES copying
# out while it holds the IOVA lock, and a MAP whose reply fails undoing
# whatever is at its IOVA rather than the mapping it made.
mutant ranges_lock "review: copy-out with no lock held" \
	"ioasid.c: IOVA_RANGES copies under iova_rwsem" \
	default ioasid_fd_uffd \
	"uffd.iova_ranges_copies_out_with_no_lock_held" <<'EOF'
--- a/drivers/iommu/ioasid/ioasid.c
+++ b/drivers/iommu/ioasid/ioasid.c
@@ -132,3 +132,10 @@
 	rc = iopt_iova_ranges(&ioasid->iopt, iova_ranges_fill_one, &fill);
+	down_read(&ioasid->iopt.iova_rwsem);
+	if (!rc && fill.capacity &&
+	    copy_to_user(u64_to_user_ptr(cmd->ranges), fill.ranges,
+			 min(fill.total, fill.capacity) *
+			 sizeof(*fill.ranges)))
+		rc = -EFAULT;
+	up_read(&ioasid->iopt.iova_rwsem);
 	iofd_put_object(&ioasid->obj);
 	if (rc)
EOF

mutant map_undo "review: a MAP undoes only its own" \
	"io_pagetable.c: the undo ignores the MAP's seq" \
	default ioasid_fd_uffd \
	"uffd.a_failed_map_reply_removes_only_its_own_mapping" <<'EOF'
--- a/drivers/iommu/ioasid/io_pagetable.c
+++ b/drivers/iommu/ioasid/io_pagetable.c
@@ -660,3 +660,3 @@
 
-	return __iopt_unmap(iopt, iova, last, &unmapped, &seq);
+	return __iopt_unmap(iopt, iova, last, &unmapped, NULL);
 }
EOF

# Issue 15's DMA use-after-free on SMMUv3: a queued gather synced rather
# than flushed whole. io-pgtable-arm (and the mock, which honours the
# gather as it does) adds nothing to a queued gather, so the sync flushes
# nothing and UNMAP unpins pages a device can still reach.
mutant queued_gather "DMA after UNMAP refused" \
	"io_pagetable.c: a queued gather is synced, not flushed" \
	default ioasid_fd \
	"ioasid_attached.one_mock_device.no_dma_reaches_a_page_after_its_unmap_returns" <<'EOF'
--- a/drivers/iommu/ioasid/io_pagetable.c
+++ b/drivers/iommu/ioasid/io_pagetable.c
@@ -377,4 +377,1 @@
-	if (gather.queued)
-		iommu_iotlb_sync_queued(domain, &gather);
-	else
-		iommu_iotlb_sync(domain, &gather);
+	iommu_iotlb_sync(domain, &gather);
EOF

# The second review's findings of issue 15, each undone against the test
# that pins its fix: a synchronous UNMAP completing the asynchronous ones
# it overlaps, UNMAP and BATCH changing nothing when their reply cannot
# be written, labels kept by detached devices and never 0, and object IDs
# never reused.
mutant async_overlap "review: UNMAP true when it returns" \
	"io_pagetable.c: pending async unmaps left in the range" \
	default ioasid_fd_events \
	"events.mock_iommu_a.a_sync_unmap_completes_the_async_unmaps_in_its_range" <<'EOF'
--- a/drivers/iommu/ioasid/io_pagetable.c
+++ b/drivers/iommu/ioasid/io_pagetable.c
@@ -612,8 +612,5 @@
 	down_write(&iopt->iova_rwsem);
 	/* Not done while part of the range is pending an async flush */
-	if (!seq && interval_tree_iter_first(&iopt->pending, iova, last))
-		rc = -EAGAIN;
-	else
-		rc = iopt_take_areas(iopt, iova, last, &list, unmapped, seq);
+	rc = iopt_take_areas(iopt, iova, last, &list, unmapped, seq);
 	if (rc) {
 		up_write(&iopt->iova_rwsem);
EOF

mutant unmap_reply "review: a failed call changes nothing" \
	"ioasid.c: UNMAP's reply not written first" \
	default ioasid_fd \
	"ioasid_attached.one_mock_device.an_unmap_whose_reply_cannot_be_written_changes_nothing" <<'EOF'
--- a/drivers/iommu/ioasid/ioasid.c
+++ b/drivers/iommu/ioasid/ioasid.c
@@ -362,9 +362,4 @@
 	 * memory changed meanwhile.
 	 */
-	cmd->out_length = 0;
-	rc = iofd_ucmd_respond(ucmd, sizeof(*cmd));
-	if (rc)
-		goto out_put;
-
 	if (cmd->flags & IOASID_UNMAP_ASYNC) {
 		/* An empty UNMAP_ALL still owes the caller its cookie */
EOF

mutant batch_undo "review: a failed call changes nothing" \
	"ioasid.c: a lost BATCH MAP reply not undone" \
	default ioasid_fd_batch \
	"batch.one_mock_device.a_kernel_chosen_map_whose_reply_is_lost_is_undone" <<'EOF'
--- a/drivers/iommu/ioasid/ioasid.c
+++ b/drivers/iommu/ioasid/ioasid.c
@@ -522,6 +522,5 @@
 			 * Anything else is done, its results lost: count it.
 			 */
-			if (op.op == IOASID_BATCH_MAP &&
-			    !(op.flags & IOASID_MAP_FIXED_IOVA)) {
+			if (false) {
 				ioasid = xa_load(&touched, op.ioasid);
 				iopt_unmap_seq(&ioasid->iopt, op.iova,
EOF

mutant label_parked "review: labels name one device" \
	"device.c: only attached devices' labels checked" \
	default ioasid_fd \
	"ioasid_attached.one_mock_device.a_detached_device_keeps_its_label_from_others" <<'EOF'
--- a/drivers/iommu/ioasid/device.c
+++ b/drivers/iommu/ioasid/device.c
@@ -737,5 +737,5 @@
 
 	mutex_lock(&ictx->lock);
-	other = iofd_label_owner(ictx, label);
+	other = iofd_label_user(ictx, label);
 	if (other && other != idev) {
 		rc = -EEXIST;
EOF

mutant label_zero "review: labels name one device" \
	"device.c: label 0 accepted" \
	default ioasid_fd \
	"ioasid_attached.one_mock_device.a_detached_device_keeps_its_label_from_others" <<'EOF'
--- a/drivers/iommu/ioasid/device.c
+++ b/drivers/iommu/ioasid/device.c
@@ -730,6 +730,4 @@
 	int rc;
 
-	if (!label)
-		return -EINVAL;
 	new = iofd_get_ioasid(ictx, ioasid);
 	if (IS_ERR(new))
EOF

mutant id_reuse "review: IDs never reused" \
	"main.c: cyclic IDs that wrap" \
	default ioasid_fd \
	"ioasid_fd.ids_are_never_reused_even_at_the_end_of_the_id_space" <<'EOF'
--- a/drivers/iommu/ioasid/main.c
+++ b/drivers/iommu/ioasid/main.c
@@ -69,18 +69,8 @@
 	 * space is used up the fd makes no more objects.
 	 */
-	xa_lock(&ictx->objects);
-	if (ictx->next_id > INT_MAX) {
-		rc = -ENOSPC;
-	} else {
-		/*
-		 * Taken before the slot is filled: the insert may drop the
-		 * lock to allocate, and no one else may get this ID then.
-		 * An ID whose insert fails is simply never used.
-		 */
-		obj->id = ictx->next_id++;
-		rc = __xa_insert(&ictx->objects, obj->id, NULL,
-				 GFP_KERNEL_ACCOUNT);
-	}
-	xa_unlock(&ictx->objects);
+	rc = xa_alloc_cyclic(&ictx->objects, &obj->id, XA_ZERO_ENTRY,
+			     xa_limit_31b, &ictx->next_id, GFP_KERNEL_ACCOUNT);
+	if (rc > 0)
+		rc = 0;
 	if (rc) {
 		kfree(obj);
EOF

# Put back the file a mutant changed, as $PENDING describes it:
# "link PATH TARGET KOBJ" or "copy PATH BACKUP"
restore()
{
	local kind f saved kobj

	[ -f "$PENDING" ] || return 0
	read -r kind f saved kobj < "$PENDING"
	case $kind in
	link)
		ln -sfn "$saved" "$KSRC/$f" &&
			rm -f "$kobj/${f%.c}.o" || return 1
		;;
	copy)
		cp "$saved" "$KSRC/$f" && cmp -s "$saved" "$KSRC/$f" || return 1
		rm -f "$saved"
		;;
	*)
		echo "mutants: cannot read $PENDING" >&2
		return 1
		;;
	esac
	rm -f "$PENDING"
	echo "mutants: restored $f"
}

# Apply mutant $1's diff to its one file. The diff is applied to a copy
# first ($MDIR/$1/mutated), so a diff that no longer applies leaves the
# tree untouched.
apply()
{
	local diff=$MDIR/$1/mutant.diff f

	f=$(sed -n 's|^+++ b/||p' "$diff")
	[ -n "$f" ] && [ "$(echo "$f" | wc -l)" -eq 1 ] ||
		{ echo "mutants: $1: the diff must change one file" >&2; return 1; }
	cp "$KSRC/$f" "$MDIR/$1/mutated" &&
		patch -s --fuzz=0 -r - --no-backup-if-mismatch \
			"$MDIR/$1/mutated" < "$diff" ||
		{ echo "mutants: $1: the diff no longer applies to $f" >&2; return 1; }
	if [ -L "$KSRC/$f" ]; then
		case $f in
		*.c) ;;
		# A header's dependents could not be made to rebuild
		*) echo "mutants: $1: only our .c files can be mutated" >&2; return 1 ;;
		esac
		echo "link $f $(readlink "$KSRC/$f") $KOBJ" > "$PENDING"
		cp "$MDIR/$1/mutated" "$KSRC/$f.mutant" &&
			mv -f "$KSRC/$f.mutant" "$KSRC/$f"
	else
		cp -p "$KSRC/$f" "$MDIR/$1/backup" || return 1
		echo "copy $f $MDIR/$1/backup" > "$PENDING"
		cp "$MDIR/$1/mutated" "$KSRC/$f"
	fi
}

# The result of test $2 in the TAP log $1: pass, fail, skip or none
tap_result()
{
	[ -f "$1" ] || { echo none; return; }
	awk -v t="$2" '
		$1 == "ok" && $3 == t { r = /# [Ss][Kk][Ii][Pp]/ ? "skip" : "pass" }
		$1 == "not" && $2 == "ok" && $4 == t {
			r = /# [Ss][Kk][Ii][Pp]/ ? "skip" : "fail"
		}
		END { print r ? r : "none" }' "$1"
}

# Boot mutant $1's profile with only its tests; keep the logs in $2
boot()
{
	local p=${PROFILE[$1]} args="" t

	for t in ${TESTS[$1]}; do
		args="$args -r $t"
	done
	# A boot that fails early must not leave an older run's results
	rm -f "$OUT/run-$p/tap.log" "$OUT/run-$p/summary" "$2/tap.log" \
		"$2/kernel.log" "$2/summary"
	T=${PROG[$1]} ARGS=${args# } "$TOP/scripts/vm.sh" check "$p" \
		> "$2/boot.log" 2>&1
	cp "$OUT/run-$p/tap.log" "$OUT/run-$p/kernel.log" \
		"$OUT/run-$p/summary" "$2/" 2>/dev/null
	grep '^# \[' "$2/boot.log" | tail -1
}

phase_start=$(date +%s)
declare -a TIMES
lap()
{
	TIMES+=("$1 $(($(date +%s) - phase_start))s")
	phase_start=$(date +%s)
}

# kernel.sh, under the lock, undoes what a killed run left behind
if [ "${1:-}" = restore ]; then
	restore
	exit
fi

# MUTANTS="name ..." runs only those (make mutants MUTANTS=map_undo)
if [ -n "${MUTANTS:-}" ]; then
	for m in $MUTANTS; do
		[ -n "${RULE[$m]:-}" ] || die "no mutant $m (${NAMES[*]})"
	done
	read -r -a NAMES <<< "$MUTANTS"
fi

mkdir -p "$MDIR"
exec 9>> "${RIG_LOCK:-/tmp/rig.lock}"
echo "mutants: waiting for the rig lock"
flock 9
start=$(date +%s)
trap 'restore || echo "mutants: RESTORE FAILED, see $PENDING" >&2' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
restore || die "cannot restore what an earlier run left ($PENDING)"
# Our kernel.sh calls leave $PENDING alone
export IOASID_MUTANTS=1
lap "lock wait"

echo "mutants: pristine kernel and selftests"
"$TOP/scripts/deps.sh" > "$MDIR/deps.log" 2>&1 ||
	die "deps failed (see $MDIR/deps.log)"
"$TOP/scripts/kernel.sh" > "$MDIR/kernel.log" 2>&1 ||
	die "kernel build failed (see $MDIR/kernel.log)"
"$TOP/scripts/build-tests.sh" > "$MDIR/selftests.log" 2>&1 ||
	die "selftest build failed (see $MDIR/selftests.log)"
lap "pristine build"

declare -A KILLED PASSED
rc=0
for m in "${NAMES[@]}"; do
	echo "mutants: $m (${LABEL[$m]})"
	if ! apply "$m"; then
		restore
		for t in ${TESTS[$m]}; do KILLED[$m $t]="NO (not applied)"; done
		rc=1
		continue
	fi
	if ! KSRC_READY=1 "$TOP/scripts/kernel.sh" > "$MDIR/$m/build.log" 2>&1; then
		tail -5 "$MDIR/$m/build.log"
		restore
		for t in ${TESTS[$m]}; do KILLED[$m $t]="NO (no build)"; done
		rc=1
		continue
	fi
	boot "$m" "$MDIR/$m"
	restore || die "cannot restore after $m"
	for t in ${TESTS[$m]}; do
		case $(tap_result "$MDIR/$m/tap.log" "$t") in
		fail) KILLED[$m $t]=yes ;;
		pass) KILLED[$m $t]=NO; rc=1 ;;
		skip) KILLED[$m $t]="NO (skipped)"; rc=1 ;;
		*) KILLED[$m $t]="NO (no result)"; rc=1 ;;
		esac
	done
	lap "mutant $m"
done

echo "mutants: pristine kernel again"
"$TOP/scripts/kernel.sh" > "$MDIR/kernel.log" 2>&1 ||
	die "pristine kernel build failed (see $MDIR/kernel.log)"
lap "pristine rebuild"

# The same boots unmutated, each once
declare -A BOOTED
for m in "${NAMES[@]}"; do
	key="${PROFILE[$m]} ${PROG[$m]} ${TESTS[$m]}"
	if [ -z "${BOOTED[$key]:-}" ]; then
		BOOTED[$key]=$m
		mkdir -p "$MDIR/$m/pristine"
		echo "mutants: unmutated: ${PROFILE[$m]} ${PROG[$m]}"
		boot "$m" "$MDIR/$m/pristine"
	fi
	dir=$MDIR/${BOOTED[$key]}/pristine
	for t in ${TESTS[$m]}; do
		r=$(tap_result "$dir/tap.log" "$t")
		if [ "$r" = pass ] && grep -q ', 0 failed,' "$dir/summary"; then
			PASSED[$m $t]=yes
		else
			PASSED[$m $t]="NO ($r)"
			rc=1
		fi
	done
done
lap "unmutated boots"

echo
echo "| rule | mutation | test | fails when removed | passes unmutated |"
echo "| --- | --- | --- | --- | --- |"
for m in "${NAMES[@]}"; do
	for t in ${TESTS[$m]}; do
		printf '| %s | %s | %s | %s | %s |\n' "${RULE[$m]}" \
			"${LABEL[$m]}" "${PROG[$m]}: ${t##*.}" \
			"${KILLED[$m $t]}" "${PASSED[$m $t]}"
	done
done
echo
for t in "${TIMES[@]}"; do
	echo "# time: $t"
done
echo "# time: total $(($(date +%s) - start))s (after the lock)"
[ $rc -eq 0 ] && echo "mutants: every mutant killed" ||
	echo "mutants: FAILED (a mutant survived or a test failed unmutated)"
exit $rc
