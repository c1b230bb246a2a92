# SPDX-License-Identifier: GPL-2.0
#
# Count the results of one guest boot.
#   awk -v profile=NAME -f tap-summary.awk tap.log kernel.log
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
# lockdep, KASAN, UBSAN, hung task, stall) is one failure.
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

# kernel.log
/(WARNING:|BUG:|Oops|Kernel panic|KASAN:|UBSAN:|general protection fault|INFO: task .* blocked|detected stall|kernel BUG at|possible recursive locking|circular locking)/ {
	fail++
	failures[++nfail] = "kernel: " $0
}

END {
	if (prog != "") {
		fail++
		failures[++nfail] = prog ": never finished"
	}
	if (!done) {
		fail++
		failures[++nfail] = "boot: the guest did not finish (see kernel.log)"
	}
	for (i = 1; i <= nfail; i++)
		printf "# FAIL [%s] %s\n", profile, failures[i]
	printf "# [%s] %d passed, %d failed, %d skipped\n", profile, pass, fail, skip
	exit fail > 0
}
