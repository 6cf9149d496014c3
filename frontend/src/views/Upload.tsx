// Bring your own data: upload a `timestamp,value` CSV, get a forecast with 80/95% intervals and its backtest score.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ApiError, api, detailOf, unwrap, type AdhocForecast, type AdhocJob, type Forecast, type Metrics } from "../api/client";
import { allows, type Role } from "../App";
import { ErrorNotice } from "../components/StateViews";
import { UsageChart } from "../components/UsageChart";
import { fmtNumber, fmtPercent } from "../format";


interface UploadInput {
  file: File;
  horizon: number;
  model: string;
  save: boolean;
  name: string;
}

const POLL_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the job the API queued until a worker has answered it (or failed it, with why). */
export async function awaitJob(job: AdhocJob, poll = POLL_MS): Promise<AdhocForecast> {
  let current = job;
  while (current.status === "queued" || current.status === "running") {
    await sleep(poll);
    current = await unwrap(api.GET("/api/forecasts/adhoc/jobs/{job_id}", { params: { path: { job_id: job.id } } }));
  }
  if (current.status === "failed" || !current.result) throw new ApiError(422, current.error || "the forecast failed");
  return current.result;
}

async function upload(input: UploadInput): Promise<AdhocForecast> {
  const form = new FormData();
  form.set("file", input.file);
  form.set("horizon_hours", String(input.horizon));
  if (input.model) form.set("model", input.model);
  if (input.save) {
    form.set("save", "true");
    form.set("name", input.name);
  }
  const accepted = await api.POST("/api/forecasts/adhoc", {
    // The generated body type describes the fields; the browser sends them as multipart form data.
    body: form as unknown as { file: string; horizon_hours: number; save: boolean; replace: boolean },
    bodySerializer: (b) => b as unknown as FormData,
  });
  if (!accepted.response.ok || !accepted.data) throw new ApiError(accepted.response.status, detailOf(accepted.error, accepted.response.status));
  return awaitJob(accepted.data);
}

/** The answer in the shapes the usage chart draws: history as "usage", the forecast with its bands. */
export function asChartData(result: AdhocForecast): { mean: Metrics; forecast: Forecast } {
  const first = result.history[0]?.t ?? new Date().toISOString();
  const last = result.history[result.history.length - 1]?.t ?? first;
  return {
    mean: { series_id: "upload", start: first, end: last, step: 3600, agg: "mean", points: result.history },
    forecast: {
      series_id: "upload",
      stat: "mean",
      model: result.model,
      as_of: last.slice(0, 10),
      created_at: new Date().toISOString(),
      step: 3600,
      points: result.points,
    },
  };
}

export function UploadView({ role }: { role: Role }) {
  const ids = { file: useId(), horizon: useId(), model: useId(), name: useId() };
  const [file, setFile] = useState<File | null>(null);
  const [horizon, setHorizon] = useState(168);
  const [model, setModel] = useState("");
  const [save, setSave] = useState(false);
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const run = useMutation({ mutationFn: upload });
  // the choices come from the forecaster registry (ml_engine's models and installed plug-ins)
  const forecasters = useQuery({
    queryKey: ["forecasters"],
    queryFn: () => unwrap(api.GET("/api/forecasters")),
    staleTime: Infinity,
  });
  const models: [string, string][] = [["", "Configured default"], ...(forecasters.data ?? []).map((f) => [f.name, f.label] as [string, string])];
  const canSave = allows(role, "editor");

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!file) return setProblem("Choose a CSV file first (header `timestamp,value`).");
    if (save && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
      return setProblem("Give the stored series a name of letters, digits, '.', '_' or '-'.");
    }
    setProblem(null);
    run.mutate({ file, horizon, model, save, name });
  }

  return (
    <>
      <h1 className="page-title">Forecast your own data</h1>
      <section className="card" aria-labelledby="upload-title">
        <h2 id="upload-title">Upload a CSV</h2>
        <p className="muted">
          Two columns with the header <code>timestamp,value</code>: ISO 8601 times (<code>2026-01-31T13:00:00Z</code>) or epoch
          seconds, at least 48 hours of data. It is averaged to hourly, forecast, and backtested on its last stretch. Nothing
          is stored unless you ask.
        </p>
        <form className="upload-form" onSubmit={submit} data-testid="upload-form">
          <label htmlFor={ids.file}>
            <span>CSV file</span>
            <input id={ids.file} type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} data-testid="upload-file" />
          </label>
          <label htmlFor={ids.horizon}>
            <span>Horizon (hours)</span>
            <input id={ids.horizon} type="number" min={1} max={744} value={horizon} onChange={(e) => setHorizon(Number(e.target.value) || 1)} />
          </label>
          <label htmlFor={ids.model}>
            <span>Model</span>
            <select id={ids.model} value={model} onChange={(e) => setModel(e.target.value)} data-testid="upload-model">
              {models.map(([v, label]) => (
                <option key={v} value={v}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          {canSave && (
            <>
              <label className="check">
                <input type="checkbox" checked={save} onChange={(e) => setSave(e.target.checked)} /> Store the upload as a series
              </label>
              {save && (
                <label htmlFor={ids.name}>
                  <span>Series name</span>
                  <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} placeholder="checkout-load" />
                </label>
              )}
            </>
          )}
          <button type="submit" className="primary" disabled={run.isPending} data-testid="upload-submit">
            {run.isPending ? "Forecasting (queued for a worker)…" : "Forecast"}
          </button>
        </form>
        {problem && (
          <p className="state-error inline" role="alert">
            {problem}
          </p>
        )}
        {run.isError && <ErrorNotice error={run.error} what="a forecast of this file" />}
      </section>
      {run.data && <UploadResult result={run.data} />}
    </>
  );
}

function UploadResult({ result }: { result: AdhocForecast }) {
  const { mean, forecast } = asChartData(result);
  const bt = result.backtest as Record<string, number | string | null>;
  const score = (k: string) => (typeof bt[k] === "number" ? (bt[k] as number) : null);
  return (
    <section className="card" aria-labelledby="result-title" data-testid="upload-result">
      <h2 id="result-title">Forecast, {result.horizon_hours} hours ahead</h2>
      <UsageChart mean={mean} p95={undefined} forecast={forecast} unit="" title="Uploaded data and its forecast" meanLabel="your data (hourly)" />
      <dl className="facts summary" data-testid="backtest">
        <div>
          <dt>Model</dt>
          <dd className="mono">{result.model}</dd>
        </div>
        <div>
          <dt>Backtest MASE</dt>
          <dd title="below 1 beats the seasonal-naive forecast">{fmtNumber(score("mase"))}</dd>
        </div>
        <div>
          <dt>sMAPE</dt>
          <dd>{fmtPercent(score("smape"))}</dd>
        </div>
        <div>
          <dt>80% interval coverage</dt>
          <dd>{fmtPercent(score("coverage80"), true)}</dd>
        </div>
        <div>
          <dt>95% interval coverage</dt>
          <dd>{fmtPercent(score("coverage95"), true)}</dd>
        </div>
        <div>
          <dt>Backtest holdout</dt>
          <dd>{String(bt.holdout ?? "—")} hours</dd>
        </div>
        <div>
          <dt>Stored</dt>
          <dd>{result.stored_series_id ? <code>{result.stored_series_id}</code> : "no"}</dd>
        </div>
      </dl>
    </section>
  );
}
