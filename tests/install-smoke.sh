#!/usr/bin/env bash
# ctest: install the library into a scratch prefix, then, as projects of
# their own would:
#  1. a C++20 consumer imports the modules with find_package(ckpt);
#  2. examples/minimal_trainer, copied out of the tree, builds against
#     find_package(ckpt 0.2 REQUIRED) and ckpt::checkpointer with CMake's
#     defaults (no modules, CXX_EXTENSIONS left ON), then is run, killed and
#     resumed, and compared with an uninterrupted run tensor by tensor.
#   usage: install-smoke.sh BUILD_DIR CMAKE
set -euo pipefail
build="$(cd "$1" && pwd)" cmake="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$build/install-smoke" prefix="$build/install-smoke/prefix"
rm -rf "$work"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
"$cmake" -S "$root/tests/install_smoke" -B "$work/modules" -G Ninja -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_CXX_COMPILER_CLANG_SCAN_DEPS=clang-scan-deps-19 -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
"$cmake" --build "$work/modules" >/dev/null
"$work/modules/consumer" | grep -q "SaveCheckpoint('work_dirs/exp', 'epoch_1.pth'"
echo "modules: installed, imported and ran: ok"
if [ ! -f "$prefix/lib/cmake/ckpt/ckptConfig.cmake" ] || ! grep -q Torch "$prefix/lib/cmake/ckpt/ckptConfig.cmake"; then
  echo "checkpointer: not installed (built without LibTorch)"; exit 0
fi
cp -r "$root/examples/minimal_trainer" "$work/minimal_trainer-src"
"$cmake" -S "$work/minimal_trainer-src" -B "$work/minimal_trainer" -G Ninja -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
"$cmake" --build "$work/minimal_trainer" >/dev/null
echo "checkpointer: minimal_trainer built out of tree against the installed package"
if [ -x "$root/.venv/bin/python" ]; then
  "$root/.venv/bin/python" "$root/tests/minimal_trainer_test.py" "$work/minimal_trainer/minimal_trainer"
else
  "$work/minimal_trainer/minimal_trainer" "$work/run" >/dev/null && echo "ran (no venv: not compared)"
fi
