// Every recommendation, filtered by kind, status and savings; editors accept or dismiss with a reason; CSV export.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { api, unwrap, type Recommendation } from "../api/client";
import { allows, type Role } from "../App";
import { useCapabilities } from "../capabilities";
import { SelectFilter, TextFilter } from "../components/Filters";
import { RecommendationList } from "../components/RecommendationList";
import { Pager } from "../components/Pager";
import { Empty, ErrorNotice, Loading, NotAvailable } from "../components/StateViews";
import { download, toCsv } from "../reportFiles";
import { pageParam, useParamUpdater } from "../urlState";

export const STATUSES = ["open", "accepted", "implemented", "verified", "dismissed"];
const SORTS: [string, string][] = [
  ["-savings", "Savings, largest first"],
  ["-risk", "Risk, highest first"],
  ["risk", "Risk, lowest first"],
  ["-updated", "Recently updated"],
  ["kind", "Kind"],
];
const PAGE = 20;

function recQuery(params: URLSearchParams, page: number, size: number) {
  const min = Number(params.get("min_savings"));
  return {
    kind: params.get("kind") ? [params.get("kind") ?? ""] : undefined,
    status: params.get("status") ? [params.get("status") ?? ""] : undefined,
    resource: params.get("resource") || undefined,
    min_savings: Number.isFinite(min) && min > 0 ? min : undefined,
    sort: params.get("sort") || "-savings",
    page,
    size,
  };
}

export const CSV_HEADER = [
  "id", "kind", "status", "title", "resource_key", "monthly_savings_effective", "monthly_savings_list",
  "realised_savings_monthly", "risk", "finding", "created_at", "dismissed_reason", "reasons",
];

export function recommendationRows(items: Recommendation[]): (string | number | null)[][] {
  return items.map((r) => [
    r.id, r.kind, r.status, r.title, r.resource_key, r.monthly_savings_effective, r.monthly_savings_list,
    r.realised_savings_monthly ?? null, r.risk, r.finding, r.created_at, r.dismissed_reason, r.evidence.reasons.join(" | "),
  ]);
}

export function RecommendationsView({ params, role }: { params: URLSearchParams; role: Role }) {
  const { caps, ready } = useCapabilities();
  if (!ready) return <Loading what="the API's capabilities" />;
  if (!caps.has("/api/recommendations"))
    return (
      <>
        <h1 className="page-title">Recommendations</h1>
        <NotAvailable what="Recommendations" route="GET /api/recommendations" issue="the recommendations issue adds it" />
      </>
    );
  return <Recommendations params={params} role={role} />;
}

function Recommendations({ params, role }: { params: URLSearchParams; role: Role }) {
  const set = useParamUpdater();
  const page = pageParam(params);
  const query = recQuery(params, page, PAGE);
  const recs = useQuery({
    queryKey: ["recommendations", query],
    queryFn: () => unwrap(api.GET("/api/recommendations", { params: { query } })),
    placeholderData: keepPreviousData,
  });
  // the kinds come from the recommender registry (built-ins and installed plug-ins), never from this file
  const kinds = useQuery({
    queryKey: ["recommendation-kinds"],
    queryFn: () => unwrap(api.GET("/api/recommendations/kinds")),
    staleTime: Infinity,
  });
  const kindOptions = (kinds.data ?? []).map((k) => [k.kind, k.label] as const);
  const [exporting, setExporting] = useState<unknown>(null);
  const onResource = useCallback((v: string) => set({ resource: v }), [set]);
  const onMin = useCallback((v: string) => set({ min_savings: v }), [set]);
  const total = recs.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE));

  async function exportCsv() {
    setExporting(null);
    try {
      const all: Recommendation[] = [];
      for (let p = 1; p <= 20; p += 1) {
        const res = await unwrap(api.GET("/api/recommendations", { params: { query: recQuery(params, p, 200) } }));
        all.push(...res.items);
        if (all.length >= res.total) break;
      }
      download(`headroom-recommendations-${new Date().toISOString().slice(0, 10)}.csv`, toCsv(CSV_HEADER, recommendationRows(all)), "text/csv");
    } catch (e) {
      setExporting(e);
    }
  }

  return (
    <>
      <h1 className="page-title">Recommendations</h1>
      <section className="card" aria-labelledby="recs-list-title" data-testid="recommendations">
        <div className="section-head">
          <h2 id="recs-list-title">{recs.data ? `${total.toLocaleString()} recommendation${total === 1 ? "" : "s"}` : "Recommendations"}</h2>
          <div className="actions">
            <button type="button" onClick={() => void exportCsv()} data-testid="export-recommendations">
              Export CSV
            </button>
          </div>
        </div>
        {exporting !== null && <ErrorNotice error={exporting} what="the export" />}
        <div className="filters" role="search" aria-label="Filter recommendations">
          <SelectFilter label="Kind" value={params.get("kind") ?? ""} options={kindOptions} onChange={(v) => set({ kind: v })} testId="filter-kind" />
          <SelectFilter label="Status" value={params.get("status") ?? ""} options={STATUSES} onChange={(v) => set({ status: v })} testId="filter-status" />
          <TextFilter label="Least savings (USD/month)" value={params.get("min_savings") ?? ""} onChange={onMin} testId="filter-min-savings" />
          <TextFilter label="Resource" value={params.get("resource") ?? ""} onChange={onResource} testId="filter-resource" />
          <label className="sort">
            <span>Sort by</span>
            <select value={query.sort} onChange={(e) => set({ sort: e.target.value === "-savings" ? null : e.target.value })}>
              {SORTS.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </label>
        </div>
        {recs.isPending ? (
          <Loading what="recommendations" />
        ) : recs.isError ? (
          <ErrorNotice error={recs.error} what="recommendations" onRetry={() => void recs.refetch()} />
        ) : recs.data.items.length === 0 ? (
          <Empty testId="recommendations-empty">No recommendation matches these filters.</Empty>
        ) : (
          <>
            <RecommendationList items={recs.data.items} canEdit={allows(role, "editor")} />
            <Pager page={page} pages={pages} onPage={(n) => set({ page: n }, { push: true })} />
          </>
        )}
      </section>
    </>
  );
}
