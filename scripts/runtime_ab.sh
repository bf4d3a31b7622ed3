#!/usr/bin/env bash
# Back-to-back A/B of generation speed and its roofline share for two mecllm binaries (e.g. a
# copy of the binary before a change and the current build), on the same model files, in
# alternating order so that both see the same machine minute by minute (docs/runtime.md,
# "Per-token overhead: before / after").
#
#   scripts/runtime_ab.sh OLD_BINARY NEW_BINARY MODEL.gguf [MODEL.gguf ...]
#
# Environment: ROUNDS (2), THREADS (1,2), REPS (5), PP (64), OUT (directory for the
# bench_model.json of every run; default /tmp/runtime_ab), CORES (e.g. 2,3: run under
# taskset on those cores; default: no pinning). Each run prints the uptime load average first.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 OLD_BINARY NEW_BINARY MODEL.gguf [MODEL.gguf ...]" >&2
  exit 2
fi
old=$1 new=$2
shift 2
ROUNDS=${ROUNDS:-2} THREADS=${THREADS:-1,2} REPS=${REPS:-5} PP=${PP:-64} OUT=${OUT:-/tmp/runtime_ab}
pin=()
[ -n "${CORES:-}" ] && pin=(taskset -c "$CORES")
mkdir -p "$OUT"
for model in "$@"; do
  name=$(basename "$model" .gguf)
  for round in $(seq 1 "$ROUNDS"); do
    for side in old new; do
      bin=$old
      [ "$side" = new ] && bin=$new
      echo "== $name $side round $round $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
      MECLLM_PREPARED_ACT=on "${pin[@]}" "$bin" bench model -m "$model" --threads "$THREADS" --reps "$REPS" \
        --pp "$PP" --roofline --out "$OUT/$name-$side-r$round" 2>/dev/null | grep -E "tg[0-9]|roofline"
    done
  done
done
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
