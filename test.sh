#!/usr/bin/env bash
# Runs every test: the host unit and property tests (MemoryManager, reclaim/OOM, simulator,
# test runner) and the in-kernel suites, which tests/QemuBoot.Tests boots under QEMU.
set -uo pipefail
cd "$(dirname "$0")"
tools/ensure-deps.sh || exit 1
log=$(mktemp)
dotnet test Kernel.sln -c Release --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# One closing line for the whole run, summed over the test assemblies.
awk '/(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1));
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     /^Test Run Aborted/ { a++ }
     END { printf "%d passed, %d failed, %d skipped", p, f, s
           if (a) printf ", %d test run(s) aborted (a test host crashed: the tests after the crash did not run)", a
           printf "\n" }' "$log"
rm -f "$log"
exit "$status"
