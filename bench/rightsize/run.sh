#!/usr/bin/env bash
# The right-sizing benchmark (../shared/BENCHMARK.md): builds the dev fleets in a temporary folder - the demo fleet,
# the Alibaba 2018 machine (real, CC-BY-4.0) and the generated fleet of bench/rightsize/prepare_generated.py (its
# patterns documented there) - and scores Headroom's right-sizer at its default risk, and at several risks for the
# savings-risk frontier, against krr, VPA and a Compute-Optimizer-like rule. Every fleet is run by the same code with
# the same settings: nothing is tuned per fleet.
# Results: bench/results/rightsize_<dataset>.md (tables), .csv (per resource and method), _frontier.csv and
# _frontier.png, and rightsize_<dataset>_recommendations.csv. Run from the repository root: bash bench/rightsize/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PY:-.venv/bin/python}"
OUT="${OUT:-bench/results}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PY" bench/rightsize/prepare_demo.py "$WORK/demo_fleet" --days 28
"$PY" bench/rightsize/prepare_alibaba.py "$WORK/alibaba2018" ${ALIBABA_CSV:+"$ALIBABA_CSV"}
"$PY" bench/rightsize/prepare_generated.py "$WORK/generated_fleet"
for dataset in demo_fleet alibaba2018 generated_fleet; do
  "$PY" -m cli.rightsize "$WORK/$dataset" --out-dir "$OUT" \
    --save-recommendations "$OUT/rightsize_${dataset}_recommendations.csv"
done
