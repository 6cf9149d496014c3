#!/usr/bin/env bash
# Forecast benchmark (../shared/BENCHMARK.md): `headroom eval` on the three dev sets, NAB AWS CloudWatch, NAB
# realTweets and the Alibaba 2018 machine-usage set, every baseline beside the product model, then on the hourly
# check set (NAB series as hourly means, a week ahead: bench/prepare_nab_hourly.py); tables and per-series CSVs
# into bench/results/. Decide design choices on all of them at once, never on one.
# Override the model list with BENCH_MODELS=a,b,... AutoARIMA runs as auto_arima_hourly on 5-minute data (at m=288
# a fit does not finish in 15 CPU-minutes; pass auto_arima to insist). `headroom` is the ensemble + global network.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
HEADROOM=${HEADROOM:-.venv/bin/headroom}
MODELS=${BENCH_MODELS:-seasonal_naive,auto_ets,auto_arima_hourly,mstl,prophet,headroom}
OUT=${BENCH_OUT:-bench/results}
SAVE=${BENCH_SAVE_FORECASTS:-}  # a directory: also write every forecast there, <dataset>.forecasts.csv
ALIBABA_DIR=var/bench/alibaba2018
HOURLY_DIR=var/bench/nab_hourly
TWEETS_DIR=${TWEETS_DIR:-../shared/data/numenta+NAB/data/realTweets}

$PY bench/prepare_alibaba.py "${ALIBABA_SOURCE:-../shared/data/alejandrofdez-us+DataCenter-Traces-Datasets/alibaba2018/machine_usage_days_1_to_8_grouped_300_seconds.csv}" "$ALIBABA_DIR" >/dev/null
$PY -m bench.prepare_nab_hourly "$HOURLY_DIR" --nab "$(dirname "$TWEETS_DIR")" >/dev/null
start=$(date +%s)
for dir in tests/fixtures/nab/realAWSCloudwatch "$TWEETS_DIR" "$ALIBABA_DIR" "$HOURLY_DIR"; do
    $HEADROOM eval "$dir" --models "$MODELS" --out-dir "$OUT" ${SAVE:+--save-forecasts "$SAVE/$(basename "$dir").forecasts.csv"}
done
echo "forecast benchmark wall time: $(( $(date +%s) - start )) s" >&2
