#!/usr/bin/env bash
# Boots the kernel in QEMU with its shell on this terminal (COM1), plus a window showing the
# VGA screen and taking keyboard input when $DISPLAY is set. Installs missing Debian packages
# and builds first.
#
#   ./boot.sh                 # 512 MiB of RAM
#   MEM=6G ./boot.sh          # any QEMU -m size
#   CONFIG=Debug ./boot.sh    # the Debug build
#   ./boot.sh -s -S           # extra arguments go to QEMU (here: wait for gdb on :1234)
#
# In the shell: help lists the commands (docs/shell.md); halt leaves. Ctrl-C quits QEMU.
set -euo pipefail
cd "$(dirname "$0")"
MEM=${MEM:-512M}
CONFIG=${CONFIG:-Release}

tools/ensure-deps.sh
dotnet build CosmosKernel/Kernel/Kernel.csproj -c "$CONFIG" --nologo -v q
ISO="artifacts/kernel/$CONFIG/kernel.iso"
[ -f "$ISO" ] || { echo "error: $ISO was not built" >&2; exit 1; }

DISPLAY_ARGS=(-display none)
if [ -n "${DISPLAY:-}" ]; then
  available=$(qemu-system-x86_64 -display help 2>/dev/null || true)
  for ui in gtk sdl; do
    if grep -qx "$ui" <<<"$available"; then DISPLAY_ARGS=(-display "$ui"); break; fi
  done
  [ "${DISPLAY_ARGS[1]}" = none ] && echo "note: this QEMU has no gtk/sdl display (Debian package qemu-system-gui); running headless."
fi

# The serial protocol's frame lines (#KT1 READY ... before each prompt) are for the test runner, not for
# people: this filter leaves them out and passes everything else through as it arrives (a prompt shows
# before its newline). The keyboard stays QEMU's.
hide_frames() {
  perl -e '$|=1; my ($held,$drop,$start,$m)=("",0,1,"#KT1 ");
    while (sysread(STDIN, my $buf, 4096)) { my $out="";
      for my $c (split //, $buf) {
        if ($drop) { if ($c eq "\n") { $drop=0; $start=1 } next }
        if ($start || length $held) { $held.=$c;
          if (substr($m,0,length $held) eq $held) { if (length $held == length $m) { $held=""; $drop=1; $start=0 } next }
          $out.=$held; $held="";
        } else { $out.=$c }
        $start = ($c eq "\n");
      }
      syswrite(STDOUT, $out) if length $out;
    }'
}

echo "booting $ISO with $MEM of RAM under QEMU TCG; Ctrl-C quits."
set +e
qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m "$MEM" \
  -cdrom "$ISO" -boot d -no-reboot -monitor none "${DISPLAY_ARGS[@]}" \
  -chardev stdio,id=com1 -serial chardev:com1 \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" | hide_frames
status=${PIPESTATUS[0]}
set -e
case $status in
  33) echo "[kernel halted: status 33, all requested tests passed / clean halt]" ;;
  35) echo "[kernel exit: status 35, at least one test failed]" ;;
  37) echo "[kernel exit: status 37, kernel panic]" ;;
  39) echo "[kernel exit: status 39, kmain returned]" ;;
  *)  echo "[qemu exit status $status]" ;;
esac
# The kernel's own statuses are information, not a failure of this script.
case $status in 33|35|37|39) exit 0 ;; *) exit "$status" ;; esac
