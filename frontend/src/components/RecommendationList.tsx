// Recommendations with their evidence; editors accept one, or dismiss it with a reason.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Recommendation } from "../api/client";
import { fmtMoney, fmtNumber, fmtPercent, DASH } from "../format";
import { Link } from "./Link";
import { ErrorNotice } from "./StateViews";

const RISK = ["none", "low", "medium", "elevated", "high"];

const WORDS: Record<string, string> = { cpu: "CPU", mem: "memory", vcpus: "vCPU", gib: "GiB", hourly: "hourly price" };

/** "cpu_p95" -> "CPU p95", "memory_gib" -> "memory GiB": evidence keys in words. */
export function humanKey(key: string): string {
  return key
    .split("_")
    .map((w) => WORDS[w.toLowerCase()] ?? w)
    .join(" ");
}

/** An evidence value in words with its unit ("percent" values carry a %). */
export function describe(v: unknown, unit: "" | "percent" = ""): string {
  if (v === null || v === undefined) return DASH;
  const num = (x: number) => (unit === "percent" ? fmtPercent(x) : fmtNumber(x));
  if (typeof v === "number") return num(v);
  if (typeof v === "string") return v;
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) return DASH;
    return entries.map(([k, x]) => `${humanKey(k)} ${typeof x === "number" ? num(x) : String(x)}`).join(", ");
  }
  return String(v);
}

/** The change's cost with its sign: "+$120/month" for an upsize, "−$45/month" for a saving. */
export function fmtCostChange(v: number): string {
  if (v === 0) return "no cost change";
  return `${v > 0 ? "+" : "−"}${fmtMoney(Math.abs(v))}/month`;
}

export function Evidence({ rec }: { rec: Recommendation }) {
  const e = rec.evidence;
  return (
    <details className="evidence">
      <summary>Evidence</summary>
      <dl className="facts">
        <div>
          <dt>Data coverage</dt>
          <dd>
            {fmtNumber(e.coverage_hours)} h ({fmtPercent(e.coverage_ratio, true)})
          </dd>
        </div>
        <div>
          <dt>Percentile, headroom</dt>
          <dd>
            {e.percentile || DASH}, {fmtPercent(e.headroom, true)}
          </dd>
        </div>
        <div>
          <dt>Observed</dt>
          <dd>{describe(e.observed, "percent")}</dd>
        </div>
        <div>
          <dt>Forecast peak</dt>
          <dd>{describe(e.forecast_peak, "percent")}</dd>
        </div>
        <div>
          <dt>Projected utilisation</dt>
          <dd>{describe(e.projected_utilisation, "percent")}</dd>
        </div>
        <div>
          <dt>Current → proposed</dt>
          <dd>
            {describe(rec.current)} → {describe(rec.proposed)}
          </dd>
        </div>
      </dl>
      {e.reasons.length > 0 && (
        <ul className="reasons">
          {e.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
    </details>
  );
}

function Actions({ rec }: { rec: Recommendation }) {
  const client = useQueryClient();
  const reasonId = useId();
  const [dismissing, setDismissing] = useState(false);
  const [reason, setReason] = useState("");
  const done = () => {
    setDismissing(false);
    void client.invalidateQueries({ queryKey: ["recommendations"] });
    void client.invalidateQueries({ queryKey: ["summary"] });
    void client.invalidateQueries({ queryKey: ["fleet"] });
  };
  const accept = useMutation({
    mutationFn: () => unwrap(api.POST("/api/recommendations/{rec_id}/accept", { params: { path: { rec_id: rec.id } }, body: { note: "accepted in the dashboard" } })),
    onSuccess: done,
  });
  const dismiss = useMutation({
    mutationFn: () => unwrap(api.POST("/api/recommendations/{rec_id}/dismiss", { params: { path: { rec_id: rec.id } }, body: { reason } })),
    onSuccess: done,
  });
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (reason.trim()) dismiss.mutate();
  }
  if (rec.status !== "open") return null;
  return (
    <div className="rec-actions">
      {!dismissing ? (
        <>
          <button type="button" className="primary small-btn" onClick={() => accept.mutate()} disabled={accept.isPending} data-testid="rec-accept">
            Accept
          </button>
          <button type="button" onClick={() => setDismissing(true)} data-testid="rec-dismiss">
            Dismiss…
          </button>
        </>
      ) : (
        <form onSubmit={submit} className="inline-form" data-testid="dismiss-form">
          <label htmlFor={reasonId}>
            <span>Why does it not apply?</span>
            <input id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} data-testid="dismiss-reason" />
          </label>
          <button type="submit" disabled={dismiss.isPending || !reason.trim()} data-testid="dismiss-confirm">
            Dismiss
          </button>
          <button type="button" className="ghost" onClick={() => setDismissing(false)}>
            Cancel
          </button>
        </form>
      )}
      {accept.isError && <ErrorNotice error={accept.error} what="accepting it" />}
      {dismiss.isError && <ErrorNotice error={dismiss.error} what="dismissing it" />}
    </div>
  );
}

export function RecommendationList({ items, canEdit }: { items: Recommendation[]; canEdit: boolean }) {
  return (
    <ul className="rec-list">
      {items.map((r) => (
        <li key={r.id} className="rec" data-testid="recommendation" data-status={r.status}>
          <div className="rec-head">
            <span className={`badge kind-${r.kind}`}>{r.kind}</span>
            <b className="rec-title">{r.title}</b>
            <span className={`badge status-${r.status}`} data-testid="rec-status">
              {r.status}
            </span>
          </div>
          <div className="rec-meta muted small">
            {r.resource_pk !== null && r.resource_pk !== undefined ? (
              <Link to={`/resources/${r.resource_pk}`} data-testid="rec-resource">
                {r.resource_name || r.resource_key}
              </Link>
            ) : (
              <span className="mono" data-testid="rec-resource">{r.resource_key}</span>
            )}{" "}
            · <b className={r.monthly_cost_change > 0 ? "cost-up" : undefined} data-testid="rec-cost-change">{fmtCostChange(r.monthly_cost_change)}</b>
            {r.monthly_cost_change < 0 && r.monthly_savings_list !== r.monthly_savings_effective ? ` (saves ${fmtMoney(r.monthly_savings_list)} at list price)` : ""} ·{" "}
            <span data-testid="rec-risk-change">{r.risk_change || `risk ${RISK[r.risk] ?? r.risk}`}</span>
            {r.dismissed_reason ? ` · dismissed: ${r.dismissed_reason}` : ""}
            {r.realised_savings_monthly !== null && r.realised_savings_monthly !== undefined
              ? ` · realised ${fmtMoney(r.realised_savings_monthly)}/month`
              : ""}
          </div>
          <Evidence rec={r} />
          {canEdit && <Actions rec={r} />}
        </li>
      ))}
    </ul>
  );
}
