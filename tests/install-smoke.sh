#!/usr/bin/env bash
# ctest: install the library into a scratch prefix and build a consumer that
# imports it with find_package(ckpt).   usage: install-smoke.sh BUILD_DIR CMAKE
set -euo pipefail
build="$(cd "$1" && pwd)" cmake="$2"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/install_smoke"
prefix="$build/install-smoke/prefix" out="$build/install-smoke/build"
rm -rf "$build/install-smoke"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
"$cmake" -S "$src" -B "$out" -G Ninja -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_CXX_COMPILER_CLANG_SCAN_DEPS=clang-scan-deps-19 -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
"$cmake" --build "$out" >/dev/null
"$out/consumer" | grep -q "SaveCheckpoint('work_dirs/exp', 'epoch_1.pth'"
echo "installed, imported and ran: ok"
