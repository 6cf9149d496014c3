#!/usr/bin/env bash
# The autoscaling benchmark (../shared/BENCHMARK.md, issue 17): builds the three dev sets (NAB AWS, NAB realKnownCause
# ASG CPU + NYC taxi as hourly means, NAB realTweets) under var/bench/autoscale and runs `headroom autoscale-eval` on
# each. Results: bench/results/autoscale_<dataset>.md (table) and .csv (per series and policy),
# autoscale_<dataset>_capacity.csv (Headroom's instances per step) and autoscale.png. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PY:-.venv/bin/python}"
OUT="${OUT:-bench/results}"
DATA="${DATA:-var/bench/autoscale}"
DATASETS=(nab_aws nab_known_cause_hourly nab_tweets)

"$PY" bench/autoscale/prepare.py "$DATA" ${NAB_DATA:+--nab "$NAB_DATA"}
for dataset in "${DATASETS[@]}"; do
  "$PY" -m cli.main autoscale-eval "$DATA/$dataset" --out-dir "$OUT" \
    --save-capacity "$OUT/autoscale_${dataset}_capacity.csv"
done
"$PY" bench/autoscale/plot.py "$OUT/autoscale.png" $(printf "$OUT/autoscale_%s.csv " "${DATASETS[@]}")
# How the one shortfall penalty trades cost for safety on all three dev sets at once (bench/results/autoscale_penalty.md)
"$PY" bench/autoscale/penalty.py "$DATA" "$OUT/autoscale_penalty.md" 10 12 14 15 18 20 25
