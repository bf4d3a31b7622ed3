#!/usr/bin/env bash
# The end-to-end demo behind `make demo`. Usage: scripts/demo.sh <path-to-mecllm>
# One chain, each stage feeding the next:
#   ECLD variants of the factworld base model -> eval (model cards, the four metrics) -> profiles
#   -> simulator comparison of the offloading baselines on those profiles -> PPO and WM-PPO
#   trained and evaluated on the same scenario.
# Stages are kept short (a few minutes on a laptop); docs/*.md have the full experiments.
set -euo pipefail

MECLLM=${1:?usage: scripts/demo.sh <path-to-mecllm>}
MECLLM=$(realpath "$MECLLM")
cd "$(dirname "$0")/.."
STAMP=$(date -u +%Y%m%d-%H%M%S)
DEMO=runs/demo/$STAMP
mkdir -p "$DEMO"
START=$(date +%s)
stage() { echo; echo "== [$(( $(date +%s) - START )) s] $* =="; }

# ---------------------------------------------------------------- ECLD -> eval -> profiles
stage "ECLD: prune -> distill -> quantize the committed factworld base model, with baselines; eval every variant"
BASE=$(ls models/factworld/*.gguf | head -n 1)
"$MECLLM" factworld generate --seed 1 --out "$DEMO/factworld" --set n_entities=60 --set n_fake_entities=40 >/dev/null
# 520 kB is about 23% of the base model's fp16-equivalent size (1.12M parameters x 2 bytes); the
# default 600 distillation steps and 128 GPTQ calibration windows are the setting measured for
# three distillation seeds in docs/compress.md; 60 questions per split keep the evaluation short
# (each held-out answer is then 1.7 points: noisier).
"$MECLLM" experiment ecld-table --base "$BASE" --data "$DEMO/factworld" --budget-bytes 520000 \
  --set qa_max_questions=60 --out "$DEMO/ecld_table"

# A scenario layer that points the default scenario at the profiles this demo just wrote (its
# arrival rates, budgets and bounds were calibrated on the committed profiles, docs/mec.md).
PROFILES=$(realpath "$DEMO/ecld_table/profiles.json")
SCEN="$DEMO/demo_profiles.yaml"
printf 'name: default-demo-profiles\nprofiles: %s\n' "$PROFILES" > "$SCEN"
SCENARIO="default,$SCEN"

# ---------------------------------------------------------------- MEC simulator: baselines vs N
stage "MEC offloading: every baseline at N = 5..50 users on the demo's profiles"
"$MECLLM" sim calibrate --scenario "$SCENARIO" --users 5,10,20,30,50
"$MECLLM" sim compare --scenario "$SCENARIO" --users 5,10,20,30,50 --seeds 3 --slots 2000 \
  --out "$DEMO/sim_compare"

# ---------------------------------------------------------------- learned offloading: PPO-Lagrangian vs WM-PPO
# PPO-Lagrangian, not plain PPO: WM-PPO is PPO-Lagrangian plus the world model, and a quality
# bound binds on the default scenario, which plain PPO ignores (docs/rl.md).
stage "Learned offloading: a short PPO-Lagrangian and WM-PPO run, then both next to the baselines"
for algo in ppo-lag wm-ppo; do
  "$MECLLM" train --algo "$algo" --scenario "$SCENARIO" --users 10 --steps 8192 --seed 1 --out "$DEMO/train_$algo"
done
"$MECLLM" evaluate --policy "$DEMO/train_ppo-lag,$DEMO/train_wm-ppo" --scenario "$SCENARIO" --users 5,10,20 \
  --seeds 2 --out "$DEMO/evaluate"

stage "done"
cat <<EOF
ECLD variants x four metrics: $DEMO/ecld_table/table.md (and table.csv, table.json)
  plots:                      $DEMO/ecld_table/size_vs_accuracy.png $DEMO/ecld_table/energy_vs_hallucination.png
  model cards:                $DEMO/ecld_table/cards/<variant>/model_card.md
  ECLD report:                $DEMO/ecld_table/ecld/report.md
simulator profiles:           $PROFILES
baseline table:               $DEMO/sim_compare/table.txt (results.csv, summary.json)
latency plot:                 $DEMO/sim_compare/latency_vs_users.png
learning curves:              $DEMO/train_ppo-lag/learning_curve.png $DEMO/train_wm-ppo/learning_curve.png
PPO / WM-PPO vs baselines:    $DEMO/evaluate/table.txt and $DEMO/evaluate/latency_vs_users.png
(short runs for a demo: see docs/eval.md, docs/mec.md and docs/rl.md for the full experiments)
demo outputs are under $DEMO ($(( $(date +%s) - START )) s)
EOF
