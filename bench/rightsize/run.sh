#!/usr/bin/env bash
# The right-sizing benchmark (../shared/BENCHMARK.md): builds the demo-fleet and Alibaba 2018 datasets in a
# temporary folder and scores Headroom's right-sizer against krr, VPA and a Compute-Optimizer-like rule.
# Results: bench/results/rightsize_<dataset>.md (table) and .csv (per resource and method) and
# bench/results/rightsize_<dataset>_recommendations.csv. Run from the repository root: bash bench/rightsize/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PY:-.venv/bin/python}"
OUT="${OUT:-bench/results}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PY" bench/rightsize/prepare_demo.py "$WORK/demo_fleet" --days 28
"$PY" bench/rightsize/prepare_alibaba.py "$WORK/alibaba2018" ${ALIBABA_CSV:+"$ALIBABA_CSV"}
for dataset in demo_fleet alibaba2018; do
  "$PY" -m cli.rightsize "$WORK/$dataset" --out-dir "$OUT" \
    --save-recommendations "$OUT/rightsize_${dataset}_recommendations.csv"
done
