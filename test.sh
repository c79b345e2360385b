#!/usr/bin/env bash
# Runs every test: host unit/property tests and the in-kernel suites under QEMU.
set -euo pipefail
cd "$(dirname "$0")"
tools/ensure-deps.sh
dotnet test Kernel.sln -c Release --nologo "$@"
