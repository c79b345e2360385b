#!/bin/bash
# Counts the guest instructions of the kernel's order-0 alloc+free pair (the `measure` suite's
# buddy order-0 loop), then of its order-3 loop and its 48-byte object loop (ORDER0, ORDER3 and
# OBJECT48 lines), by single-stepping them with gdb over QEMU's gdbstub. Needs gdb and a built
# kernel (dotnet build CosmosKernel/Kernel/Kernel.csproj -c Release). Usage, from the repo root:
#   tools/order0-instructions.sh
set -e
root=$(pwd)
elf=$root/artifacts/kernel/Release/kernel.elf
[ -f "$elf" ] || { echo "no $elf: build the kernel first" >&2; exit 2; }
wrap=$(mktemp -d)
real=$(command -v qemu-system-x86_64)
printf '#!/bin/sh\nexec %s -s "$@"\n' "$real" > "$wrap/qemu-system-x86_64"
chmod +x "$wrap/qemu-system-x86_64"
PATH=$wrap:$PATH dotnet run --project TestRunner -c Release -- test --suite measure --no-build --memory 512M --timeout 240 -v > "$wrap/run.log" 2>&1 &
runner=$!
gdb -q -batch -x "$root/tools/order0-instructions.py" "$elf" 2>&1 | grep -E '^(ORDER0|ORDER3|OBJECT48)' || true
wait $runner || true
grep -E 'metric (buddy|rat)\.(page\.order0|object48)|passed,' "$wrap/run.log" || tail -5 "$wrap/run.log"
rm -rf "$wrap"
