// "Runs out first": resources by runway severity (already over, critical, warning, uncertain, ok), then days until
// usage crosses its threshold, from GET /api/runway (the few most severe, and the runways of one fleet page's rows).
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type FleetRow, type Runway, type RunwayPage } from "../api/client";
import { fmtDays, fmtPercent } from "../format";
import { queryString } from "../urlState";
import { Link } from "./Link";
import { Empty, ErrorNotice, Loading, NotAvailable } from "./StateViews";

/** One request for runways: the panel's most severe few, or the runways of one fleet page's rows. */
export interface RunwayQuery {
  available: boolean;
  page: RunwayPage | undefined;
  error: unknown;
  pending: boolean;
}

export interface RunwayLookup extends RunwayQuery {
  byResource: (row: FleetRow) => Runway | null;
}

export const PANEL_SIZE = 8;

export const resourceKey = (r: { provider: string; resource_id: string }): string => `${r.provider}:${r.resource_id}`;

/** Days of runway: "already over" at 0, "> horizon" when the threshold is not crossed within the forecast. */
export function runwayDays(days: number | null, horizon: number, short = false): string {
  if (days === 0) return "already over";
  return days === null ? `> ${fmtDays(Math.round(horizon), short)}` : fmtDays(days, short);
}

const RANK: Record<Runway["severity"], number> = { over: 0, critical: 1, warning: 2, uncertain: 3, ok: 4 };
export const SEVERITY_TEXT: Record<Runway["severity"], string> = {
  over: "already over",
  critical: "critical",
  warning: "warning",
  uncertain: "uncertain",
  ok: "ok",
};

/** The most severe first, then the shortest runway; "beyond the horizon" (null) last. */
export function byRunway(a: Runway, b: Runway): number {
  const av = a.p90_days ?? a.p50_days ?? Infinity;
  const bv = b.p90_days ?? b.p50_days ?? Infinity;
  return RANK[a.severity] - RANK[b.severity] || av - bv || (a.p50_days ?? Infinity) - (b.p50_days ?? Infinity);
}

function asQuery(enabled: boolean, q: { data?: RunwayPage; error: unknown; isPending: boolean }): RunwayQuery {
  return { available: enabled, page: q.data, error: q.error, pending: enabled && q.isPending };
}

/** The `limit` most severe runways of the fleet, ranked by the server: the panel never loads the whole fleet's. */
export function useTopRunways(enabled: boolean, limit = PANEL_SIZE): RunwayQuery {
  const q = useQuery({
    queryKey: ["runway", "top", limit],
    queryFn: () => unwrap(api.GET("/api/runway", { params: { query: { limit } } })),
    enabled,
  });
  return asQuery(enabled, q);
}

/** The runways of the rows on screen (one request per fleet page), the shortest per resource. */
export function useRunwayLookup(enabled: boolean, rows: FleetRow[]): RunwayLookup {
  const keys = [...new Set(rows.map(resourceKey))].sort();
  const q = useQuery({
    queryKey: ["runway", "rows", keys],
    queryFn: () => unwrap(api.GET("/api/runway", { params: { query: { resource_key: keys } } })),
    enabled: enabled && keys.length > 0,
  });
  const shortest = new Map<string, Runway>();
  for (const r of q.data?.resources ?? []) {
    const seen = shortest.get(r.resource_key);
    if (!seen || byRunway(r, seen) < 0) shortest.set(r.resource_key, r);
  }
  return { ...asQuery(enabled && keys.length > 0, q), available: enabled, byResource: (row) => shortest.get(resourceKey(row)) ?? null };
}

export function RunwayPanel({
  ready,
  available,
  runway,
}: {
  ready: boolean;
  available: boolean;
  runway: RunwayQuery;
}) {
  const items = [...(runway.page?.resources ?? [])].sort(byRunway);
  const total = runway.page?.resource_total ?? 0;
  return (
    <section className="card" aria-labelledby="runway-title" data-testid="runway-panel">
      <div className="section-head">
        <h2 id="runway-title">Runs out first</h2>
        <span className="muted small">
          Most severe first: P50 / P90 days until the threshold against the lead time, and how reliable the forecast has been
          {total > items.length ? <span data-testid="runway-count">{` (the ${items.length} most severe of ${total.toLocaleString()})`}</span> : null}
        </span>
      </div>
      {!ready || runway.pending ? (
        <Loading what="runway" />
      ) : !available ? (
        <NotAvailable what="Runway" route="GET /api/runway" issue="the recommendations issue adds it" />
      ) : runway.error ? (
        <ErrorNotice error={runway.error} what="runway" />
      ) : items.length === 0 ? (
        <Empty testId="runway-empty">No runway estimates yet: they need trained forecasts (run `headroom train`, then refresh recommendations).</Empty>
      ) : (
        <ol className="runway-list">
          {items.map((r) => (
            <li key={r.id} data-testid="runway-item" data-resource-key={r.resource_key} data-metric={r.metric} data-severity={r.severity}>
              <span>
                <Link to={`/recommendations${queryString({ resource: r.resource_key })}`}>{r.resource_name || r.resource_key}</Link>
                <span className="muted small">
                  {" "}
                  {r.metric} now {fmtPercent(r.current)}, threshold {fmtPercent(r.threshold)}
                </span>
              </span>
              <span className="runway-figures">
                <span className={`badge severity-${r.severity}`} data-testid="runway-severity" title={r.severity_reason}>
                  {SEVERITY_TEXT[r.severity]}
                </span>{" "}
                <b>{runwayDays(r.p50_days, r.horizon_days)}</b> / {runwayDays(r.p90_days, r.horizon_days)}
                <span className="muted small runway-reason">{r.severity_reason}</span>
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
