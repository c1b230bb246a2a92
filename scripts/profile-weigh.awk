# SPDX-License-Identifier: GPL-2.0
#
# Time-weighted profiles from perf's cpu-clock samples, for
# scripts/profile-guest.sh (busybox awk in the guest; any awk will do):
#
#   awk -f profile-weigh.awk BENCH_OUTPUT PERF_SCRIPT_OUTPUT
#
# BENCH_OUTPUT holds ioasid-bench -P's "T start end" lines (CLOCK_MONOTONIC
# ns: the profiled operations); PERF_SCRIPT_OUTPUT is "perf script -F
# comm,cpu,time,ip,sym --ns" of a "perf record -k mono -g" on the same
# clock.
#
# Why weigh: TCG has no PMU, so cpu-clock samples come from a timer
# interrupt, which waits while interrupts are off; a stretch with
# interrupts off (GUP-fast walks its whole range so, io_uring's
# registration 64MiB at once) yields one sample however long it is, taken
# where interrupts come back on. Each sample here weighs the time since
# the previous one on its CPU, within the profiled operation, so that
# such a stretch counts for its length. Samples outside the profiled
# operations (the control fifo's round trips) are dropped.
#
# Prints lines for the caller to sort:
#   TOTAL profiled_s weighed_s samples
#   FLAT  pct_weighed pct_samples symbol      (ioasid-bench's leaf symbols)
#   LAYER pct_weighed pct_samples layer       (innermost known caller)
#   TASK  pct_weighed task                    (all CPUs)

function layer_add(fn, name)
{
	layer[fn] = name
}

BEGIN {
	# The innermost of these in a call chain names the sample's layer.
	# Chains come from the guess unwinder (CONFIG_UNWINDER_GUESS): every
	# kernel text address on the stack, so now and then a stale one.
	layer_add("pin_user_pages_fast", "pin: GUP-fast (pin_user_pages_fast)")
	layer_add("kvrealloc_noprof", "pin: growing the runs array (kvrealloc)")
	layer_add("krealloc_noprof", "pin: growing the runs array (kvrealloc)")
	layer_add("iofd_pages_pin", "pin: iofd_pages_pin itself (runs, charge, allocs)")
	layer_add("iommu_map_nosync", "IOMMU map (iommu_map_nosync, per run)")
	# iommu_map_nosync() tail-calls it: no frame of its own on the stack
	layer_add("__iommu_map", "IOMMU map (iommu_map_nosync, per run)")
	layer_add("iommu_sync_map", "IOMMU sync after map (iommu_sync_map)")
	layer_add("iopt_sync_maps", "IOMMU sync after map (iommu_sync_map)")
	layer_add("iopt_check_iova", "IOVA checks (iopt_check_iova)")
	layer_add("iopt_map_user", "map: iopt_map_user itself (locks, area)")
	layer_add("iofd_ioasid_do_map", "map: iopt_map_user itself (locks, area)")
	layer_add("interval_tree_insert", "interval tree")
	layer_add("interval_tree_remove", "interval tree")
	layer_add("interval_tree_iter_first", "interval tree")
	layer_add("interval_tree_iter_next", "interval tree")
	layer_add("iommu_iotlb_sync", "IOTLB flush (iommu_iotlb_sync)")
	layer_add("intel_iommu_tlb_sync", "IOTLB flush (iommu_iotlb_sync)")
	layer_add("cache_tag_flush_range", "IOTLB flush (iommu_iotlb_sync)")
	layer_add("iommu_unmap_fast", "IOMMU unmap (iommu_unmap_fast, per area)")
	layer_add("__iommu_unmap", "IOMMU unmap (iommu_unmap_fast, per area)")
	layer_add("unpin_user_page_range_dirty_lock", "unpin: GUP (unpin_user_page_range_dirty_lock)")
	layer_add("iofd_pages_unpin", "unpin: iofd_pages_unpin itself (uncharge, mmdrop, free_uid, frees)")
	layer_add("iopt_take_areas", "unmap: taking the areas out (iopt_take_areas)")
	layer_add("__iopt_unmap", "unmap: __iopt_unmap itself (locks, kfree)")
	layer_add("iopt_unmap_async", "batch: queueing an unmap (iopt_unmap_async)")
	layer_add("iofd_ioasid_unmap_later", "batch: queueing an unmap (iofd_ioasid_unmap_later)")
	layer_add("iopt_complete_async", "batch: completing the unmaps (iopt_complete_async)")
	layer_add("iofd_ioasid_complete_async", "batch: completing the unmaps (iopt_complete_async)")
	layer_add("iofd_report_inval", "events: invalidation reports")
	layer_add("iofd_ioasid_batch", "batch: iofd_ioasid_batch itself (copying ops, xarray)")
	layer_add("iofd_batch_one", "batch: iofd_ioasid_batch itself (copying ops, xarray)")
	layer_add("iofd_ioasid_map", "ioctl: IOASID_MAP handler")
	layer_add("iofd_ioasid_unmap", "ioctl: IOASID_UNMAP handler")
	layer_add("iofd_fops_ioctl", "ioctl: dispatch (iofd_fops_ioctl)")
	layer_add("io_sqe_buffer_register", "io_uring: io_sqe_buffer_register itself")
	layer_add("__io_uring_register", "io_uring: registration")
	layer_add("do_syscall_64", "syscall entry and exit")
	nr = 0
	ri = 1
}

# The first file: the profiled operations
FNR == NR {
	if ($1 == "T") {
		nr++
		r0[nr] = $2 / 1e9
		r1[nr] = $3 / 1e9
		profiled += r1[nr] - r0[nr]
	}
	next
}

function flush_sample(   w, l)
{
	if (!insample)
		return
	insample = 0
	# Past the operations that ended before this sample
	while (ri <= nr && r1[ri] < t)
		ri++
	w = -1
	if (ri <= nr && t >= r0[ri]) {
		w = t - (last[cpu] > r0[ri] ? last[cpu] : r0[ri])
		if (w < 0)
			w = 0
	}
	last[cpu] = t
	if (w < 0)
		return
	task_w[comm] += w
	all_w += w
	if (comm != "ioasid-bench")
		return
	l = lay == "" ? "other (no known caller)" : lay
	flat_w[leaf] += w
	flat_n[leaf]++
	lay_w[l] += w
	lay_n[l]++
	bench_w += w
	bench_n++
}

# A sample's first line: "comm [cpu] seconds.ns:"
/^[^\t ].* \[[0-9]+\] +[0-9]+\.[0-9]+:/ {
	flush_sample()
	line = $0
	sub(/:[ \t]*$/, "", line)
	n = split(line, f, " ")
	t = f[n] + 0
	cpu = f[n - 1]
	comm = line
	sub(/ +\[[0-9]+\] +[0-9.]+$/, "", comm)
	leaf = ""
	lay = ""
	insample = 1
	next
}

# A call chain line: "\taddress symbol+off (dso)" or "\taddress symbol"
insample && /^[ \t]+[0-9a-f]+ / {
	sym = $2
	sub(/\+0x[0-9a-f]+$/, "", sym)
	if (leaf == "")
		leaf = sym == "[unknown]" ? "[user]" : sym
	if (lay == "" && (sym in layer))
		lay = layer[sym]
	next
}

END {
	flush_sample()
	printf "TOTAL %.3f %.3f %d\n", profiled, bench_w, bench_n
	if (!bench_w || !bench_n)
		exit
	for (s in flat_w)
		printf "FLAT %.2f %.2f %s\n", 100 * flat_w[s] / bench_w,
			100 * flat_n[s] / bench_n, s
	for (s in lay_w)
		printf "LAYER %.2f %.2f %s\n", 100 * lay_w[s] / bench_w,
			100 * lay_n[s] / bench_n, s
	for (s in task_w)
		printf "TASK %.2f %s\n", 100 * task_w[s] / all_w, s
}
