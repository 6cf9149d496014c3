// The SRE overview: which services run out of capacity first, and the fleet table with usage, forecast and runway.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useCallback } from "react";
import { api, unwrap, type FleetRow } from "../api/client";
import { useCapabilities } from "../capabilities";
import { SelectFilter, TextFilter, useSeenOptions } from "../components/Filters";
import { Link } from "../components/Link";
import { RunwayPanel, runwayDays, useRunwayLookup, useTopRunways, type RunwayLookup } from "../components/RunwayPanel";
import { Pager } from "../components/Pager";
import { Empty, ErrorNotice, Loading } from "../components/StateViews";
import { DASH, fmtAgo, fmtPercent } from "../format";
import { pageParam, queryString, useParamUpdater } from "../urlState";

export const PAGE_SIZE = 25;
const PROVIDERS = ["aws", "gcp", "azure", "prometheus", "demo"];
const ENVIRONMENTS = ["production", "staging", "development"];

interface Column {
  key: string;
  label: string;
  sort?: string;
  num?: boolean;
  title?: string;
}

const COLUMNS: Column[] = [
  { key: "name", label: "Resource", sort: "name" },
  { key: "provider", label: "Provider", sort: "provider" },
  { key: "account", label: "Account", sort: "account" },
  { key: "region", label: "Region", sort: "region" },
  { key: "environment", label: "Environment", sort: "environment" },
  { key: "type", label: "Type", sort: "instance_type" },
  { key: "cpu", label: "CPU p95", title: "CPU utilisation, 95th percentile over the last 7 days", sort: "cpu_p95_7d", num: true },
  { key: "mem", label: "Mem p95", title: "Memory utilisation, 95th percentile over the last 7 days", sort: "memory_p95_7d", num: true },
  { key: "peak", label: "Peak 14d", title: "Highest forecast mean over the next 14 days", sort: "forecast_peak_14d", num: true },
  { key: "runway", label: "Runway", title: "Runway P50 / P90: days until the threshold", num: true },
  { key: "recs", label: "Recs", title: "Open recommendations", sort: "open_recommendations", num: true },
  { key: "last", label: "Last data", sort: "last_data_at" },
];

export function fleetQuery(params: URLSearchParams) {
  return {
    provider: params.get("provider") || undefined,
    environment: params.get("environment") || undefined,
    account: params.get("account") || undefined,
    region: params.get("region") || undefined,
    tag: params.get("tag") || undefined,
    q: params.get("q") || undefined,
    sort: params.get("sort") || "name",
    page: pageParam(params),
    size: PAGE_SIZE,
  };
}

export function OverviewView({ params }: { params: URLSearchParams }) {
  const { caps, ready } = useCapabilities();
  const hasRunway = ready && caps.has("/api/runway");
  const runway = useTopRunways(hasRunway);
  return (
    <>
      <h1 className="page-title">SRE overview</h1>
      <RunwayPanel ready={ready} available={caps.has("/api/runway")} runway={runway} />
      <FleetTable params={params} hasRunway={hasRunway} />
    </>
  );
}

function FleetTable({ params, hasRunway }: { params: URLSearchParams; hasRunway: boolean }) {
  const set = useParamUpdater();
  const query = fleetQuery(params);
  const fleet = useQuery({
    queryKey: ["fleet", query],
    queryFn: () => unwrap(api.GET("/api/fleet", { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const items = fleet.data?.items ?? [];
  const runway = useRunwayLookup(hasRunway, items);
  const providers = useSeenOptions(PROVIDERS, items.map((r) => r.provider), query.provider ?? "");
  const environments = useSeenOptions(ENVIRONMENTS, items.map((r) => r.environment), query.environment ?? "");
  const total = fleet.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const onText = (name: string) => (v: string) => set({ [name]: v });
  const onQ = useCallback((v: string) => set({ q: v }), [set]);
  const onAccount = useCallback((v: string) => set({ account: v }), [set]);
  const onRegion = useCallback((v: string) => set({ region: v }), [set]);
  const onTag = useCallback((v: string) => set({ tag: v }), [set]);
  const here = window.location.pathname + window.location.search;

  function toggleSort(key: string) {
    const desc = query.sort === key ? `-${key}` : query.sort === `-${key}` ? key : key === "name" ? key : `-${key}`;
    set({ sort: desc === "name" ? null : desc });
  }

  return (
    <section className="card" aria-labelledby="fleet-title" data-testid="fleet">
      <div className="section-head">
        <h2 id="fleet-title">Fleet</h2>
        <span className="muted" data-testid="fleet-total">
          {fleet.data ? `${total.toLocaleString()} resource${total === 1 ? "" : "s"}` : ""}
        </span>
      </div>
      <div className="filters" role="search" aria-label="Filter the fleet">
        <TextFilter label="Search" value={query.q ?? ""} onChange={onQ} placeholder="name, id or type" testId="filter-q" />
        <SelectFilter label="Provider" value={query.provider ?? ""} options={providers} onChange={onText("provider")} testId="filter-provider" />
        <SelectFilter label="Environment" value={query.environment ?? ""} options={environments} onChange={onText("environment")} testId="filter-environment" />
        <TextFilter label="Account" value={query.account ?? ""} onChange={onAccount} testId="filter-account" />
        <TextFilter label="Region" value={query.region ?? ""} onChange={onRegion} testId="filter-region" />
        <TextFilter label="Tag" value={query.tag ?? ""} onChange={onTag} placeholder="team=payments" testId="filter-tag" />
        <label>
          <span>Sort by</span>
          <select value={query.sort} onChange={(e) => set({ sort: e.target.value === "name" ? null : e.target.value })} data-testid="sort-select">
            {COLUMNS.filter((c) => c.sort).flatMap((c) => [
              <option key={c.sort} value={c.sort}>{`${c.label} ↑`}</option>,
              <option key={`-${c.sort}`} value={`-${c.sort}`}>{`${c.label} ↓`}</option>,
            ])}
          </select>
        </label>
      </div>
      {fleet.isPending ? (
        <Loading what="the fleet" />
      ) : fleet.isError ? (
        <ErrorNotice error={fleet.error} what="the fleet" onRetry={() => void fleet.refetch()} />
      ) : items.length === 0 ? (
        <Empty testId="fleet-empty">No resources match these filters.</Empty>
      ) : (
        <>
          <div className={`table-wrap${fleet.isFetching ? " refreshing" : ""}`}>
            <table className="resources fleet">
              <caption className="sr-only">Resources with usage, forecast and runway; select a column to sort</caption>
              <thead>
                <tr>
                  {COLUMNS.map((c) => {
                    const active = c.sort && (query.sort === c.sort || query.sort === `-${c.sort}`);
                    const dir = active ? (query.sort.startsWith("-") ? "descending" : "ascending") : "none";
                    return (
                      <th key={c.key} scope="col" className={c.num ? "num" : undefined} aria-sort={c.sort ? dir : undefined} title={c.title}>
                        {c.sort ? (
                          <button type="button" className="sort" onClick={() => toggleSort(c.sort ?? "")} data-testid={`sort-${c.sort}`}>
                            {c.label}
                            <span aria-hidden="true">{dir === "ascending" ? " ▲" : dir === "descending" ? " ▼" : ""}</span>
                          </button>
                        ) : (
                          c.label
                        )}
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <FleetTableRow key={r.id} row={r} back={here} runway={runway} />
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={query.page} pages={pages} onPage={(n) => set({ page: n }, { push: true })} />
        </>
      )}
    </section>
  );
}

function FleetTableRow({ row: r, back, runway }: { row: FleetRow; back: string; runway: RunwayLookup }) {
  const rw = runway.byResource(r);
  // on a phone the row is a compact card: name, where it runs, then usage, runway and open recommendations; the
  // "wide" cells (account, region, environment, type, forecast peak, last data) are for wide screens only
  return (
    <tr data-testid="resource-row" data-severity={rw?.severity}>
      <td data-label="Resource" className="name">
        <Link to={`/resources/${r.id}${queryString({ back })}`} data-testid="resource-link">
          {r.name || r.resource_id}
        </Link>
        <span className="sub">
          {r.kind}
          <span className="narrow-only">
            {" · "}
            {[r.provider, r.environment, r.instance_type].filter(Boolean).join(" · ")}
          </span>
        </span>
      </td>
      <td data-label="Provider" className="wide">
        <span className={`badge provider-${r.provider}`}>{r.provider}</span>
      </td>
      <td data-label="Account" className="clip wide" title={r.account}>
        {r.account || DASH}
      </td>
      <td data-label="Region" className="clip wide" title={r.region}>
        {r.region || DASH}
      </td>
      <td data-label="Environment" className="wide">
        {r.environment || DASH}
      </td>
      <td data-label="Type" className="mono wide">
        {r.instance_type || DASH}
      </td>
      <td data-label="CPU p95" className="num" data-testid="cpu-p95">
        {fmtPercent(r.cpu_p95_7d)}
      </td>
      <td data-label="Mem p95" className="num">
        {fmtPercent(r.memory_p95_7d)}
      </td>
      <td data-label="Forecast peak 14d" className="num wide" title={r.forecast_metric ?? undefined}>
        {fmtPercent(r.forecast_peak_14d)}
      </td>
      <td data-label="Runway P50/P90" className="num" title={rw?.severity_reason}>
        {rw ? `${runwayDays(rw.p50_days, rw.horizon_days, true)} / ${runwayDays(rw.p90_days, rw.horizon_days, true)}` : runway.available ? DASH : <span className="muted" title="GET /api/runway has not landed">n/a</span>}
      </td>
      <td data-label="Recs" className="num">
        {r.open_recommendations ? (
          <Link to={`/recommendations${queryString({ resource: r.resource_id, status: "open" })}`}>{r.open_recommendations}</Link>
        ) : (
          "0"
        )}
      </td>
      <td data-label="Last data" className="wide" title={r.last_data_at ?? "no data"}>
        {fmtAgo(r.last_data_at)}
      </td>
    </tr>
  );
}
