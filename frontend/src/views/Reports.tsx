// Reports: the technical report (fleet usage and forecast) and the executive summary, as CSV and printable HTML.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type FleetRow, type Recommendation, type Summary } from "../api/client";
import { useCapabilities } from "../capabilities";
import { ErrorNotice, Loading, NotAvailable } from "../components/StateViews";
import { fmtMoney } from "../format";
import { download, toCsv, toHtml, type Cell } from "../reportFiles";

const MAX_PAGES = 5;
const PAGE = 200;

async function wholeFleet(): Promise<{ rows: FleetRow[]; total: number }> {
  const rows: FleetRow[] = [];
  let total = 0;
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const res = await unwrap(api.GET("/api/fleet", { params: { query: { page, size: PAGE, sort: "name" } } }));
    rows.push(...res.items);
    total = res.total;
    if (rows.length >= total) break;
  }
  return { rows, total };
}

const round = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Math.round(v * 10) / 10);

export const TECHNICAL_HEADER = [
  "resource", "resource_id", "provider", "account", "region", "environment", "instance_type",
  "cpu_p95_7d_pct", "memory_p95_7d_pct", "forecast_peak_14d_pct", "open_recommendations", "last_data_at",
];

export function technicalRows(rows: FleetRow[]): Cell[][] {
  return rows.map((r) => [
    r.name, r.resource_id, r.provider, r.account, r.region, r.environment, r.instance_type,
    round(r.cpu_p95_7d), round(r.memory_p95_7d), round(r.forecast_peak_14d), r.open_recommendations, r.last_data_at,
  ]);
}

export function ReportsView() {
  const { caps, ready } = useCapabilities();
  const fleet = useQuery({ queryKey: ["report-fleet"], queryFn: wholeFleet, staleTime: 60_000 });
  const stamp = new Date().toISOString().slice(0, 10);

  function technicalCsv() {
    if (fleet.data) download(`headroom-technical-${stamp}.csv`, toCsv(TECHNICAL_HEADER, technicalRows(fleet.data.rows)), "text/csv");
  }
  function technicalHtml() {
    if (!fleet.data) return;
    const { rows, total } = fleet.data;
    const busiest = [...rows].filter((r) => r.cpu_p95_7d !== null).sort((a, b) => (b.cpu_p95_7d ?? 0) - (a.cpu_p95_7d ?? 0));
    const html = toHtml("Headroom technical report", new Date(), [
      {
        title: "Scope",
        paragraphs: [
          `${total} resources${rows.length < total ? ` (the first ${rows.length} listed)` : ""}.`,
          "CPU and memory are the 95th percentile over the 7 days to each resource's newest sample; the forecast peak is the highest forecast mean over the next 14 days.",
        ],
      },
      { title: "Fleet, busiest CPU first", header: TECHNICAL_HEADER, rows: technicalRows(busiest.concat(rows.filter((r) => r.cpu_p95_7d === null))) },
    ]);
    download(`headroom-technical-${stamp}.html`, html, "text/html");
  }

  return (
    <>
      <h1 className="page-title">Reports</h1>
      <section className="card" aria-labelledby="tech-title" data-testid="report-technical">
        <h2 id="tech-title">Technical report</h2>
        <p className="muted">Every resource with its usage percentiles, forecast peak, open recommendations and data freshness.</p>
        {fleet.isPending ? (
          <Loading what="the fleet" />
        ) : fleet.isError ? (
          <ErrorNotice error={fleet.error} what="the fleet" onRetry={() => void fleet.refetch()} />
        ) : (
          <div className="actions">
            <button type="button" onClick={technicalCsv} data-testid="download-technical-csv">
              Download CSV ({fleet.data.rows.length} resources)
            </button>
            <button type="button" onClick={technicalHtml} data-testid="download-technical-html">
              Download printable HTML
            </button>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="exec-report-title" data-testid="report-executive">
        <h2 id="exec-report-title">Executive summary</h2>
        {!ready ? (
          <Loading what="the API's capabilities" />
        ) : !caps.has("/api/summary") || !caps.has("/api/recommendations") ? (
          <NotAvailable what="The executive summary (spend, forecast, savings, ROI)" route="GET /api/summary, GET /api/recommendations" issue="the recommendations issue adds it" />
        ) : (
          <ExecutiveReport stamp={stamp} />
        )}
      </section>
    </>
  );
}

async function executiveData(): Promise<{ summary: Summary; done: Recommendation[]; top: Recommendation[] }> {
  const [summary, done, top] = await Promise.all([
    unwrap(api.GET("/api/summary")),
    unwrap(api.GET("/api/recommendations", { params: { query: { status: ["implemented", "verified"], size: 200 } } })),
    unwrap(api.GET("/api/recommendations", { params: { query: { status: ["open"], sort: "-savings", size: 10, min_savings: 0.01 } } })),
  ]);
  return { summary, done: done.items, top: top.items };
}

export const ROI_HEADER = ["id", "title", "resource_key", "status", "implemented_at", "expected_monthly", "realised_monthly", "realised_annualised", "realised_vs_expected"];

/** Return on implemented recommendations: what each was expected to save and what it saves, per month and per year. */
export function roiRows(done: Recommendation[]): Cell[][] {
  return done.map((r) => {
    const realised = r.realised_savings_monthly ?? null;
    const expected = r.monthly_savings_effective;
    return [
      r.id, r.title, r.resource_key, r.status, r.implemented_at ?? null, round(expected), round(realised),
      realised === null ? null : round(realised * 12),
      realised === null || expected <= 0 ? null : `${Math.round((100 * realised) / expected)}%`,
    ];
  });
}

function summaryRows(s: Summary): Cell[][] {
  const q = s.forecast_next_quarter;
  return [
    ["spend_month_to_date_effective", round(s.spend_month_to_date.effective)],
    ["spend_month_to_date_billed", round(s.spend_month_to_date.billed)],
    ["forecast_next_quarter_mean", q.available ? round(q.mean) : `not available: ${q.reason}`],
    ["forecast_next_quarter_80", q.available ? `${round(q.lo80)} - ${round(q.hi80)}` : null],
    ["forecast_next_quarter_95", q.available ? `${round(q.lo95)} - ${round(q.hi95)}` : null],
    ["identified_monthly_savings_effective", round(s.identified_monthly_savings_effective)],
    ["identified_monthly_savings_list", round(s.identified_monthly_savings_list)],
    ["realised_monthly_savings", round(s.realised_monthly_savings)],
    ...s.by_kind.map((k): Cell[] => [`identified_monthly_${k.kind}`, round(k.identified_monthly_effective)]),
  ];
}

function ExecutiveReport({ stamp }: { stamp: string }) {
  const data = useQuery({ queryKey: ["report-executive"], queryFn: executiveData, staleTime: 60_000 });
  if (data.isPending) return <Loading what="the summary" />;
  if (data.isError) return <ErrorNotice error={data.error} what="the summary" onRetry={() => void data.refetch()} />;
  const { summary, done, top } = data.data;
  const realised = done.reduce((a, r) => a + (r.realised_savings_monthly ?? 0), 0);
  function csv() {
    const rows: Cell[][] = [
      ...summaryRows(summary).map((r) => ["summary", ...r]),
      ...top.map((r): Cell[] => ["top_opportunity", r.title, round(r.monthly_savings_effective)]),
      ...roiRows(done).map((r) => ["implemented", ...r]),
    ];
    download(`headroom-executive-${stamp}.csv`, toCsv(["section", "item", "value", "...more"], rows), "text/csv");
  }
  function html() {
    const doc = toHtml("Headroom executive summary", new Date(), [
      { title: "Spend, forecast and savings", header: ["figure", "value (USD)"], rows: summaryRows(summary) },
      { title: "Ten largest opportunities", header: ["recommendation", "resource", "monthly savings"], rows: top.map((r) => [r.title, r.resource_key, round(r.monthly_savings_effective)]) },
      {
        title: "Return on implemented recommendations",
        paragraphs: [`${done.length} implemented or verified recommendations realise ${fmtMoney(realised)} a month (${fmtMoney(realised * 12)} a year).`],
        header: ROI_HEADER,
        rows: roiRows(done),
      },
    ]);
    download(`headroom-executive-${stamp}.html`, doc, "text/html");
  }
  return (
    <>
      <p className="muted">
        Spend, the quarter's forecast, savings identified and realised, and the return on {done.length} implemented recommendations (
        {fmtMoney(realised)}/month realised).
      </p>
      <div className="actions">
        <button type="button" onClick={csv} data-testid="download-executive-csv">
          Download CSV
        </button>
        <button type="button" onClick={html} data-testid="download-executive-html">
          Download printable HTML
        </button>
        <button type="button" onClick={() => window.print()}>
          Print this page
        </button>
      </div>
    </>
  );
}
