# SPDX-License-Identifier: GPL-2.0
#
# Count the results of one guest boot.
#   awk -v profile=NAME [-v debug=1] -f tap-summary.awk tap.log kernel.log
#
# tap.log is what the guest reported on ttyS1: for each test program a
# "# rig: begin" line, its kselftest TAP output, and "# rig: end NAME rc=N".
# Every "ok" is a pass, every "ok ... # SKIP" a skip, every "not ok" a
# failure. A program is also a failure when it prints fewer results than
# its plan ("1..N"), exits non-zero without printing a "not ok" (a crash,
# a timeout) or never ends; the boot is a failure when the guest never
# reports "# rig: done".
#
# kernel.log is the kernel console: every splat in it (WARN, BUG, oops,
# arm64's "Unable to handle kernel", lockdep, KASAN, UBSAN, sleeping in
# atomic context, hung task, stall, kmemleak turning itself off) is one
# failure.
#
# With debug=1 (the debug kernel) the guest ends tap.log with kmemleak's
# report, each line prefixed "# kmemleak: ": every place that leaks (the
# allocator's first three callers) is one failure, however many objects
# it left, and so is a boot that finished without a scan, unless it was
# locked down (debugfs closed). The kernel's splats are then named after
# the test that was running.
#
# Prints "N passed, N failed, N skipped" for the profile and the lines
# that failed, and exits 1 if anything failed.

function finish_prog(rc) {
	if (plan >= 0 && results < plan) {
		fail++
		failures[++nfail] = prog ": " results " of " plan " results"
	}
	if (rc != 0 && rc != 4 && prog_fail == 0) {
		fail++
		failures[++nfail] = prog ": exited with " rc
	}
	if (rc == 4 && results == 0) {
		skip++
	}
	prog = ""
}

# Allocator frames: a leak is named after the frames that called them
function allocator_frame(f) {
	return f ~ /^_*(kmemleak_|kmalloc|do_kmalloc|kmem_cache_|slab_|kvmalloc|kvzalloc|kzalloc|kcalloc|krealloc|kmemdup|kstrdup|memdup_|vmemdup_|alloc_pages|vmalloc|vzalloc|get_free_pages|folio_alloc|xa_|xas_|radix_tree_)/
}

# One leaked object read: count it under its size, callers and task
function finish_leak(  key) {
	if (leak_size == "")
		return
	key = leak_size (leak_at != "" ? " from " leak_at : "") \
		(leak_comm != "" ? " (comm " leak_comm ")" : "")
	if (!(key in leaks))
		leak_keys[++nleak_keys] = key
	leaks[key]++
	leak_size = ""
}

# One failure per place that leaks, however many objects it left
function report_leaks(  i, key) {
	finish_leak()
	for (i = 1; i <= nleak_keys; i++) {
		key = leak_keys[i]
		fail++
		failures[++nfail] = "kmemleak: " leaks[key] " unreferenced " \
			(leaks[key] > 1 ? "objects " : "object ") key
	}
	nleak_keys = 0
}

FILENAME == ARGV[1] {
	if ($0 ~ /^# rig: begin /) {
		prog = $4; plan = -1; results = 0; prog_fail = 0
		next
	}
	if ($0 ~ /^# rig: end /) {
		rc = $5; sub(/^rc=/, "", rc)
		finish_prog(rc + 0)
		next
	}
	if ($0 ~ /^# rig: done/) {
		done = 1
		next
	}
	if ($0 ~ /^# rig: kmemleak (report|skipped)/) {
		scanned = 1
		next
	}
	if ($0 ~ /^# rig: kmemleak unavailable/) {
		scanned = 1
		fail++
		failures[++nfail] = "kmemleak: the guest could not scan (see kernel.log)"
		next
	}
	if ($0 ~ /^# kmemleak: unreferenced object /) {
		finish_leak()
		# "unreferenced object 0xADDR (size N):"
		leak_size = $6 " " $7; sub(/:$/, "", leak_size)
		leak_at = ""; leak_comm = ""; in_trace = 0; frames = 0
		next
	}
	if ($0 ~ /^# kmemleak:   comm "/) {
		leak_comm = $4; sub(/,$/, "", leak_comm)
		next
	}
	if ($0 ~ /^# kmemleak:   backtrace/) {
		in_trace = 1
		next
	}
	if ($0 ~ /^# kmemleak:     / && in_trace) {
		# The first three callers of the allocator, offsets dropped
		# so that one place is one key
		if (!allocator_frame($3) && frames < 3) {
			f = $3; sub(/\+.*/, "", f)
			leak_at = leak_at (frames++ ? " < " : "") f
		}
		next
	}
	if ($0 ~ /^# rig: kmemleak end/) {
		report_leaks()
		next
	}
	if (prog == "")
		next
	if ($0 ~ /^1\.\.[0-9]+/) {
		p = $0; sub(/^1\.\./, "", p); plan = p + 0
		next
	}
	if ($0 ~ /^ok [0-9]+/) {
		results++
		if ($0 ~ /# [Ss][Kk][Ii][Pp]/)
			skip++
		else
			pass++
		next
	}
	if ($0 ~ /^not ok [0-9]+/) {
		results++
		if ($0 ~ /# [Ss][Kk][Ii][Pp]/) {
			skip++
		} else {
			fail++; prog_fail++
			failures[++nfail] = prog ": " $0
		}
		next
	}
	next
}

# kernel.log: which test runs, from guest-init.sh's markers
/ rig: (begin|kmemleak scan)/ {
	running = $0; sub(/.* rig: (begin )?/, "", running)
}

/(WARNING:|BUG:|Oops|Unable to handle kernel|Kernel panic|KASAN:|UBSAN:|general protection fault|INFO: task .* blocked|detected stall|kernel BUG at|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context|INFO: trying to register non-static key|Kernel memory leak detector disabled)/ {
	fail++
	failures[++nfail] = "kernel" (debug && running != "" ? " (" running ")" : "") ": " $0
}

END {
	report_leaks()
	if (prog != "") {
		fail++
		failures[++nfail] = prog ": never finished"
	}
	if (!done) {
		fail++
		failures[++nfail] = "boot: the guest did not finish (see kernel.log)"
	} else if (debug && !scanned) {
		fail++
		failures[++nfail] = "kmemleak: the guest did not scan for leaks"
	}
	for (i = 1; i <= nfail; i++)
		printf "# FAIL [%s] %s\n", profile, failures[i]
	printf "# [%s] %d passed, %d failed, %d skipped\n", profile, pass, fail, skip
	exit fail > 0
}
