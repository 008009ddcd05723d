#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole suite with ctest: first the normal build, then
# (unless --fast) the same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=1
for arg in "$@"; do
  case "$arg" in
    --fast) sanitize=0 ;;
    *) echo "test: unknown option $arg" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
(cd build && ctest --output-on-failure --timeout 300 -j 2)

if ((sanitize)); then
  scripts/setup.sh --sanitize
  # A small quarantine keeps freed blocks from inflating RSS, which the stalled-endpoint test bounds.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:quarantine_size_mb=16
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure --timeout 300 -j 2)
fi
