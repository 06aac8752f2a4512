#!/usr/bin/env bash
# ctest: three ranks on one machine (Gloo over a TCPStore on 127.0.0.1).
# Only rank 0 touches the disk; every rank runs the same policy (the same
# runtime info after every hook call) and ends with the same model.
#   usage: train_demo_ranks.sh TRAIN_DEMO
set -uo pipefail
demo="$1"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
port=$((29600 + RANDOM % 300))
hook='{"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"}'
for r in 0 1 2; do
  timeout 300 "$demo" --work-dir "$tmp/rank$r" --epochs 3 --hook "$hook" --rank $r --world-size 3 \
    --master-port $port --calls --quiet > "$tmp/out$r" 2>&1 &
done
failed=0 passed=0
for job in $(jobs -p); do wait "$job" || { echo "FAIL: a rank exited non-zero"; failed=$((failed + 1)); }; done
check() { if eval "$1"; then passed=$((passed + 1)); else echo "FAIL: $2"; failed=$((failed + 1)); fi; }
check '[ -f "$tmp/rank0/last_checkpoint" ] && ls "$tmp/rank0" | grep -q "^epoch_3.pth$"' "rank 0 wrote its checkpoints"
check '[ ! -e "$tmp/rank1" ] && [ ! -e "$tmp/rank2" ]' "ranks 1 and 2 touched no disk"
check '[ "$(grep -c "^call" "$tmp/out0")" -gt 10 ]' "rank 0 printed its calls"
for r in 1 2; do
  check 'diff <(grep "^call" "$tmp/out0" | sed "s|$tmp/rank0|W|g") <(grep "^call" "$tmp/out$r" | sed "s|$tmp/rank$r|W|g") > /dev/null' "rank $r ran rank 0's policy, call by call"
  check 'diff <(grep "^runtime_info" "$tmp/out0" | sed "s|$tmp/rank0|W|g") <(grep "^runtime_info" "$tmp/out$r" | sed "s|$tmp/rank$r|W|g") > /dev/null' "rank $r ends with rank 0's runtime info"
  check 'diff <(grep "^fingerprint" "$tmp/out0") <(grep "^fingerprint" "$tmp/out$r") > /dev/null' "rank $r ends with rank 0's model (buffers all-reduced)"
done
[ $failed -eq 0 ] || cat "$tmp"/out*
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
