#!/usr/bin/env bash
# ctest: the C++ adapter against the real mmengine and mmcv, live.
# usage: tests/conformance-live.sh ADAPTER REPORT_DIR   (exit 77: references not installed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! "$root/.venv/bin/python" -c 'import mmengine, mmcv' 2>/dev/null; then
  echo "references not installed (run tools/setup): skipped"
  exit 77
fi
exec python3 "$root/tools/conform" -q --no-fixtures --impl "cpp=$1" --impl mmengine --impl mmcv --report "$2"
