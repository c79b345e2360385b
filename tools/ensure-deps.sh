#!/usr/bin/env bash
# Installs what the build and the tests need when it is missing (Debian; run as root or with sudo).
set -euo pipefail
need=()
for pair in nasm:nasm grub-mkrescue:grub-common grub-file:grub-common xorriso:xorriso \
            mformat:mtools qemu-system-x86_64:qemu-system-x86; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
# GRUB's BIOS modules are what grub-mkrescue needs to make a bootable ISO.
[ -d /usr/lib/grub/i386-pc ] || need+=(grub-pc-bin)
# The trace report's browser test drives Debian's Chromium (Playwright, never a downloaded browser);
# the plots' text needs a font (docs/memory-trace.md).
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK 10 (dotnet) is not on PATH; install it first." >&2
  exit 1
fi
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "installing missing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
