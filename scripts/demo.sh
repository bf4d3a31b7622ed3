#!/usr/bin/env bash
# The end-to-end demo behind `make demo`. Usage: scripts/demo.sh <path-to-mecllm>
# One section per stage; later stages (compression, training, testbed) append their own sections.
set -euo pipefail

MECLLM=${1:?usage: scripts/demo.sh <path-to-mecllm>}
MECLLM=$(realpath "$MECLLM")
cd "$(dirname "$0")/.."
STAMP=$(date -u +%Y%m%d-%H%M%S)
DEMO=runs/demo/$STAMP
mkdir -p "$DEMO"

# ---------------------------------------------------------------- MEC simulator: baselines vs N
echo "== MEC offloading: every baseline at N = 5..50 users (default scenario) =="
"$MECLLM" sim calibrate --scenario default --users 5,10,20,30,50
"$MECLLM" sim compare --scenario default --users 5,10,20,30,50 --seeds 3 --slots 2000 \
  --out "$DEMO/sim_compare"
echo
echo "baseline table:  $DEMO/sim_compare/table.txt"
echo "per-N CSV:       $DEMO/sim_compare/results.csv"
echo "summary JSON:    $DEMO/sim_compare/summary.json"
echo "latency plot:    $DEMO/sim_compare/latency_vs_users.png"

echo
echo "demo outputs are under $DEMO"
