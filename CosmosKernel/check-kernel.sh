#!/usr/bin/env bash
# Manual end-to-end check of the kernel image against the runner contract: boots the ISO in
# QEMU (TCG) per docs/testing.md, waits for READY, sends a `test` command, checks the frames
# and the exit status, and prints how long each phase took.
#
#   CosmosKernel/check-kernel.sh            # all checks (about a minute under TCG)
#   CONFIG=Debug CosmosKernel/check-kernel.sh
# Build first: dotnet build CosmosKernel/Kernel/Kernel.csproj -c Release
set -uo pipefail
cd "$(dirname "$0")/.."
ISO="artifacts/kernel/${CONFIG:-Release}/kernel.iso"
[ -f "$ISO" ] || { echo "no $ISO: build first" >&2; exit 2; }
failures=0
now() { date +%s.%N; }

# check <name> <mem> <command> <expected status> <grep pattern that must appear in the log>
check() {
  local name=$1 mem=$2 command=$3 expected=$4 pattern=$5 log
  log=$(mktemp)
  local t0 tready="" tfirst="" line status
  t0=$(now)
  local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
  local cmdfd
  exec {cmdfd}<>"$fifo"   # held open read-write: QEMU's stdin never sees EOF, opening never blocks
  while IFS= read -r line; do
    line=${line%$'\r'}
    echo "$line" >>"$log"
    case $line in
      "#KT1 READY "*) [ -z "$tready" ] && { tready=$(now); printf '%s\n' "$command" >&"$cmdfd"; } ;;
      "#KT1 TEST "*)  [ -z "$tfirst" ] && tfirst=$(now) ;;
      "#STATUS "*)    status=${line#\#STATUS }; break ;;
    esac
  done < <(timeout 120 qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m "$mem" -cdrom "$ISO" -boot d \
      -display none -no-reboot -monitor none -chardev stdio,id=com1,signal=off -serial chardev:com1 \
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 <"$fifo" 2>&1; echo "#STATUS $?")
  exec {cmdfd}>&-
  rm -f "$fifo"
  local tend; tend=$(now)
  local ok=1
  [ "${status:-?}" = "$expected" ] || ok=0
  grep -qaE -- "$pattern" "$log" || ok=0
  awk -v n="$name" -v ok="$([ $ok = 1 ] && echo ok || echo FAIL)" -v st="${status:-?}" -v want="$expected" \
      -v t0="$t0" -v tr="${tready:-$tend}" -v tf="${tfirst:-$tend}" -v te="$tend" \
      'BEGIN { printf "%-28s %-5s status %-3s (want %s)  boot->READY %5.2fs  boot->first TEST %5.2fs  total %5.2fs\n", n, ok, st, want, tr - t0, tf - t0, te - t0 }'
  if [ $ok = 0 ]; then failures=$((failures + 1)); echo "--- log tail ($name):"; tail -20 "$log"; fi
  rm -f "$log"
}

check "test all (256M)"        256M "test all"            33 '^#KT1 END [0-9]+ [0-9]+	0	0$'
check "test selftest-fail"     256M "test selftest-fail"  35 '^#KT1 FAIL [0-9]+ selftest-fail	A_deliberate_failure_is_reported	deliberate failure: expected 1 but was 2$'
check "test selftest-fault"    256M "test selftest-fault" 37 '^#KT1 PANIC [0-9]+ CPU exception 14 \(#PF\)'
check "test selftest-throw"    256M "test selftest-throw" 37 '^#KT1 PANIC [0-9]+ unhandled managed exception System.InvalidOperationException'
check "test all (128M)"        128M "test all"            33 '^#KT1 END [0-9]+ [0-9]+	0	0$'
check "test all (6G)"          6G   "test all"            33 '^#KT1 END [0-9]+ [0-9]+	0	0$'
check "test selftest-oom"      256M "test selftest-oom"   37 "^#KT1 PANIC [0-9]+ out of memory: the kernel heap cannot allocate"
check "test selftest-stack"    256M "test selftest-stack" 37 "^#KT1 PANIC [0-9]+ CPU exception 8 \(#DF\) double fault - kernel stack overflow"
check "test selftest-taskstack" 256M "test selftest-taskstack" 37 "^#KT1 PANIC [0-9]+ scheduler: task [0-9]+ 'smasher' overflowed its stack"
check "test selftest-taskfault" 256M "test selftest-taskfault" 37 "kernel_task_trampoline"
check "halt"                   256M "halt"                33 'halting'
[ $failures = 0 ] && echo "all kernel checks passed" || echo "$failures kernel check(s) failed"
exit $((failures != 0))
