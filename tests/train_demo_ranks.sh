#!/usr/bin/env bash
# ctest: three ranks on one machine (Gloo over a TCPStore on 127.0.0.1).
# Only rank 0 touches the disk; every rank runs the same policy (the same
# runtime info after every hook call) and ends with the same model.
#   usage: train_demo_ranks.sh TRAIN_DEMO
set -uo pipefail
demo="$1"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
# a port nothing uses now (the kernel's choice), not a random one that may be
# in use (rank 0's store then fails to listen); tools/torturelib has the same
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
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

# X5 with ranks: SIGTERM reaches rank 1 only; the ranks agree at the next
# hook call, rank 0 writes the preemption save, and every rank ends by the
# signal (exit status 143), none left waiting in a collective.
port=$(free_port)
for r in 0 1; do
  extra=(); [ $r -eq 1 ] && extra=(--sigterm-at-iter 37)
  timeout 300 "$demo" --work-dir "$tmp/pre$r" --epochs 3 --hook "$hook" --profile ckpt --rank $r --world-size 2 \
    --master-port $port --quiet "${extra[@]}" > "$tmp/outpre$r" 2>&1 &
  pids[$r]=$!
done
for r in 0 1; do wait "${pids[$r]}"; status[$r]=$?; done
check '[ "${status[0]}" -eq 143 ] && [ "${status[1]}" -eq 143 ]' "both ranks end by SIGTERM (exit ${status[0]}, ${status[1]})"
check '[ "$(cat "$tmp/pre0/last_checkpoint")" = "$tmp/pre0/epoch_2.pth" ] && grep -aq preempted_after "$tmp/pre0/epoch_2.pth"' \
  "rank 0 wrote the preemption save of epoch 2"
check '[ ! -e "$tmp/pre1" ]' "rank 1 touched no disk"

[ $failed -eq 0 ] || cat "$tmp"/out*
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
