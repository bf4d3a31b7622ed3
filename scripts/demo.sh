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

# ---------------------------------------------------------------- ECLD: compress the factworld base model
echo
echo "== ECLD: prune -> distill -> quantize the committed factworld base model, with baselines =="
"$MECLLM" factworld generate --seed 1 --out "$DEMO/factworld" --set n_entities=60 --set n_fake_entities=40 >/dev/null
# 640 kB is about 22% of the base model's fp16-equivalent size (1.44M parameters x 2 bytes).
"$MECLLM" ecld --base models/factworld/factworld-base-f32.gguf --data "$DEMO/factworld" \
  --budget-bytes 640000 --baselines --set distill.steps=60 --set qa_max_questions=60 --out "$DEMO/ecld"
echo
echo "ECLD report:     $DEMO/ecld/report.md"
echo "model card:      $DEMO/ecld/model_card.md"

# ---------------------------------------------------------------- learned offloading: PPO vs WM-PPO
echo
echo "== Learned offloading: a short PPO and WM-PPO run, then both next to the baselines =="
for algo in ppo wm-ppo; do
  "$MECLLM" train --algo "$algo" --scenario default --users 10 --steps 8192 --seed 1 --out "$DEMO/train_$algo"
done
"$MECLLM" evaluate --policy "$DEMO/train_ppo,$DEMO/train_wm-ppo" --scenario default --users 5,10,20 \
  --seeds 2 --out "$DEMO/evaluate"
echo
echo "learning curves: $DEMO/train_ppo/learning_curve.png $DEMO/train_wm-ppo/learning_curve.png"
echo "evaluation:      $DEMO/evaluate/table.txt and $DEMO/evaluate/latency_vs_users.png"
echo "(short runs for a demo: see docs/rl.md for the full experiments)"

echo
echo "demo outputs are under $DEMO"
