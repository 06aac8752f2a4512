#!/usr/bin/env bash
# ctest: each adapter refuses every case in conformance/malformed/ with exit
# status 2, a reason on stderr and nothing on stdout.
# usage: tests/malformed.sh ADAPTER_COMMAND...   (each run as `CMD run CASE`)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
failed=0 checked=0
# stderr goes to this run's own scratch file: ctest runs two of these at once
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-malformed.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
for adapter in "$@"; do
  for case in "$root"/conformance/malformed/*.json; do
    out=$($adapter run "$case" 2>"$scratch/err"); rc=$?
    checked=$((checked + 1))
    if [ $rc -ne 2 ] || [ -n "$out" ] || [ ! -s "$scratch/err" ]; then
      echo "FAIL $adapter $(basename "$case"): exit $rc, stdout '${out:0:80}'"
      failed=$((failed + 1))
    fi
  done
done
echo "$((checked - failed)) passed, $failed failed"
[ $failed -eq 0 ]
