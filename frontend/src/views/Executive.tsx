// The executive view: spend to date, its forecast with intervals, savings identified vs realised, the largest
// opportunities, split by provider, service and team. Every figure links to its detail.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { api, ApiError, unwrap, type Forecast, type Metrics, type Spend, type Summary } from "../api/client";
import { useCapabilities } from "../capabilities";
import { Link } from "../components/Link";
import { SignedBars } from "../components/SignedBars";
import { BudgetPanel, CoveragePanel } from "./ExecutivePanels";
import { Empty, ErrorNotice, Loading, NotAvailable } from "../components/StateViews";
import { UsageChart } from "../components/UsageChart";
import { fmtDate, fmtMoney } from "../format";
import { queryString } from "../urlState";

const DAY = 86_400_000;

/** Month to date plus the forecast mean of the month's remaining days. The interval of a sum is not the sum of the
 * daily bounds: taking daily errors as independent, each side's half-width adds in quadrature (as the API's
 * next-quarter and month-end totals do). */
export function monthOutlook(spend: Spend, forecast: Forecast | undefined) {
  const through = spend.through ? Date.parse(`${spend.through}T00:00:00Z`) : null;
  if (through === null || !forecast) return null;
  const monthEnd = Date.UTC(new Date(through).getUTCFullYear(), new Date(through).getUTCMonth() + 1, 1);
  const rest = forecast.points.filter((p) => Date.parse(p.t) > through && Date.parse(p.t) < monthEnd);
  const daysLeft = Math.round((monthEnd - through) / DAY) - 1;
  if (rest.length < daysLeft) return null; // the forecast does not reach the month's end
  const mean = spend.month_to_date + rest.reduce((a, p) => a + p.mean, 0);
  const half = (f: (p: (typeof rest)[number]) => number | null | undefined) =>
    Math.sqrt(rest.reduce((a, p) => a + Math.max(0, Math.abs((f(p) ?? p.mean) - p.mean)) ** 2, 0));
  return { mean, lo80: Math.max(0, mean - half((p) => p.lo80)), hi80: mean + half((p) => p.hi80) };
}

/** "Q1 2027" for the quarter starting on `start` (YYYY-MM-DD). */
export function quarterName(start: string): string {
  const [year, month] = start.split("-").map(Number);
  return `Q${Math.floor(((month ?? 1) - 1) / 3) + 1} ${year}`;
}

/** The last day of a period whose end is exclusive (YYYY-MM-DD in, YYYY-MM-DD out). */
export function lastDay(endExclusive: string): string {
  return new Date(Date.parse(`${endExclusive}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
}

/** "December 2026" for a day (YYYY-MM-DD). */
function monthName(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`)).toLocaleDateString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
}

/** The calendar month of `day` (YYYY-MM-DD) as [first, last] days. */
function monthOf(day: string): [string, string] {
  const [year, month] = day.split("-").map(Number);
  const first = new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, 1)).toISOString().slice(0, 10);
  const next = new Date(Date.UTC(year ?? 1970, month ?? 1, 1)).toISOString().slice(0, 10);
  return [first, lastDay(next)];
}

function Kpi({ label, value, sub, to, testId }: { label: string; value: string; sub?: ReactNode; to: string; testId?: string }) {
  return (
    <Link to={to} className="kpi" data-testid={testId}>
      <span className="label">{label}</span>
      <span className="value">{value}</span>
      {sub && <span className="sub">{sub}</span>}
    </Link>
  );
}

function Split({ spend, title, link }: { spend: Spend; title: string; link: (name: string) => string }) {
  // bars by size whatever the sign: a credit is a red bar of its own size, not a full positive one
  const max = Math.max(...spend.parts.map((p) => Math.abs(p.effective)), 0);
  return (
    <div className="split">
      <h3>{title}</h3>
      {spend.parts.length === 0 ? (
        <p className="muted">No costs this month.</p>
      ) : (
        <ul className="bars">
          {spend.parts.slice(0, 8).map((p) => (
            <li key={p.name} className={p.effective < 0 ? "negative" : undefined}>
              <Link to={link(p.name)}>{p.name}</Link>
              <span className="bar" aria-hidden="true">
                <span style={{ width: `${max > 0 ? (100 * Math.abs(p.effective)) / max : 0}%` }} />
              </span>
              <span className="num">{fmtMoney(p.effective, spend.currency)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ExecutiveView() {
  const { caps, ready } = useCapabilities();
  if (!ready) return <Loading what="the API's capabilities" />;
  return (
    <>
      <h1 className="page-title">Executive view</h1>
      {caps.has("/api/summary") ? (
        <Headline />
      ) : (
        <NotAvailable what="Savings and the quarter's forecast" route="GET /api/summary" issue="the recommendations issue adds it" />
      )}
      <SpendSection />
      {caps.has("/api/recommendations") && <TopOpportunities />}
      {caps.has("/api/spend/budgets") ? (
        <BudgetPanel />
      ) : (
        <NotAvailable what="Spend against budget" route="GET /api/spend/budgets" issue="the dashboard issue adds it" />
      )}
      {caps.has("/api/spend/commitment-coverage") ? (
        <CoveragePanel />
      ) : (
        <NotAvailable what="Commitment coverage over time" route="GET /api/spend/commitment-coverage" issue="the dashboard issue adds it" />
      )}
    </>
  );
}

function Headline() {
  const summary = useQuery({ queryKey: ["summary"], queryFn: () => unwrap(api.GET("/api/summary")) });
  const spend = useQuery({ queryKey: ["spend", "provider"], queryFn: () => unwrap(api.GET("/api/spend", { params: { query: { by: "provider" } } })) });
  const forecast = useQuery({
    queryKey: ["forecast", "cost:total", "daily_cost"],
    queryFn: () => unwrap(api.GET("/api/forecasts", { params: { query: { series_id: "cost:total", stat: "daily_cost" } } })),
  });
  if (summary.isPending || spend.isPending) return <Loading what="the summary" />;
  if (summary.isError) return <ErrorNotice error={summary.error} what="the summary" onRetry={() => void summary.refetch()} />;
  if (spend.isError) return <ErrorNotice error={spend.error} what="spend" onRetry={() => void spend.refetch()} />;
  const s: Summary = summary.data;
  const cur = spend.data.currency;
  const month = monthOutlook(spend.data, forecast.data);
  const q = s.forecast_next_quarter;
  return (
    <section className="card" aria-labelledby="headline-title" data-testid="executive">
      <h2 id="headline-title">This month and next quarter</h2>
      <div className="kpis">
        <Kpi
          label="Spend month to date"
          value={fmtMoney(spend.data.month_to_date, cur)}
          sub={spend.data.through ? `${fmtDate(spend.data.period_start)} – ${fmtDate(spend.data.through)}` : "no cost data yet"}
          to="/reports"
          testId="kpi-mtd"
        />
        <Kpi
          label={month && spend.data.through ? `Forecast ${monthName(spend.data.through)}` : "Forecast this month"}
          value={month ? fmtMoney(month.mean, cur) : "not available"}
          sub={
            month && spend.data.through ? (
              <>
                <span className="dates" data-testid="kpi-month-dates">
                  {fmtDate(monthOf(spend.data.through)[0])} – {fmtDate(monthOf(spend.data.through)[1])}
                </span>
                <span data-testid="kpi-month-interval">
                  80%: {fmtMoney(month.lo80, cur)} – {fmtMoney(month.hi80, cur)}
                </span>
              </>
            ) : forecast.error instanceof ApiError && forecast.error.status === 404 ? (
              "no cost forecast yet (after the next training run)"
            ) : (
              "the cost forecast does not reach the month's end"
            )
          }
          to="/reports"
          testId="kpi-month"
        />
        <Kpi
          label={q.available && q.period_start ? `Forecast next quarter (${quarterName(q.period_start)})` : "Forecast next quarter"}
          value={q.available ? fmtMoney(q.mean, cur) : "not available"}
          sub={
            q.available && q.period_start && q.period_end ? (
              <>
                <span className="dates" data-testid="kpi-quarter-dates">
                  {fmtDate(q.period_start)} – {fmtDate(lastDay(q.period_end))}
                </span>
                <span data-testid="kpi-quarter-interval">
                  80%: {fmtMoney(q.lo80, cur)} – {fmtMoney(q.hi80, cur)}; 95%: {fmtMoney(q.lo95, cur)} – {fmtMoney(q.hi95, cur)}
                </span>
                {q.credits ? <span>includes {fmtMoney(q.credits, cur)} of monthly credits</span> : null}
                {q.reason ? <span className="muted">{q.reason}</span> : null}
              </>
            ) : (
              q.reason
            )
          }
          to="/reports"
          testId="kpi-quarter"
        />
        <Kpi
          label="Monthly run rate"
          value={s.monthly_run_rate ? fmtMoney(s.monthly_run_rate.monthly, cur) : "not available"}
          sub={
            s.monthly_run_rate
              ? `at the spend of ${fmtDate(s.monthly_run_rate.start)} – ${fmtDate(lastDay(s.monthly_run_rate.end))}, credits left out; the scenarios' baseline`
              : "no cost records yet"
          }
          to="/scenarios"
          testId="kpi-run-rate"
        />
        <Kpi
          label="Savings identified"
          value={`${fmtMoney(s.identified_monthly_savings_effective, cur)}/mo`}
          sub={`${fmtMoney(s.identified_monthly_savings_list, cur)}/mo at list price; ${s.not_counted_twice} overlapping not counted twice`}
          to={`/recommendations${queryString({ status: "open" })}`}
          testId="kpi-identified"
        />
        <Kpi
          label="Savings realised"
          value={`${fmtMoney(s.realised_monthly_savings, cur)}/mo`}
          sub={`${s.status_counts.implemented ?? 0} implemented, ${s.status_counts.verified ?? 0} verified`}
          to={`/recommendations${queryString({ status: "verified" })}`}
          testId="kpi-realised"
        />
      </div>
    </section>
  );
}

function SpendSection() {
  const by = (dim: string) => ({
    queryKey: ["spend", dim],
    queryFn: () => unwrap(api.GET("/api/spend", { params: { query: { by: dim } } })),
  });
  const provider = useQuery(by("provider"));
  const service = useQuery(by("service"));
  const team = useQuery(by("tag:team"));
  const forecast = useQuery({
    queryKey: ["forecast", "cost:total", "daily_cost"],
    queryFn: () => unwrap(api.GET("/api/forecasts", { params: { query: { series_id: "cost:total", stat: "daily_cost" } } })),
  });
  const failed = [provider, service, team].find((q) => q.isError);
  let body: ReactNode;
  if (provider.isPending || service.isPending || team.isPending) body = <Loading what="spend" />;
  else if (failed) body = <ErrorNotice error={failed.error} what="spend" />;
  else if (provider.data && service.data && team.data) {
    const p = provider.data;
    // the line is the recurring spend the forecast learns from; credits and adjustments are their own series
    const history: Metrics = {
      series_id: "cost:total",
      start: p.daily[0] ? `${p.daily[0].day}T00:00:00Z` : new Date().toISOString(),
      end: p.through ? `${p.through}T23:59:59Z` : new Date().toISOString(),
      step: 86400,
      agg: "sum",
      points: p.daily.map((d) => ({ t: `${d.day}T00:00:00Z`, v: d.effective - (d.one_off ?? 0) })),
    };
    const oneOff = p.daily.filter((d) => (d.one_off ?? 0) !== 0).map((d) => ({ day: d.day, value: d.one_off ?? 0 }));
    body = p.daily.length === 0 ? (
      <Empty testId="spend-empty">No cost records yet: collect a billing source (the demo source includes costs).</Empty>
    ) : (
      <>
        <p className="muted small" data-testid="spend-period">
          Daily spend {fmtDate(p.daily[0]?.day)} – {fmtDate(p.through)} and its forecast; the splits below are this month,{" "}
          {fmtDate(p.period_start)} – {fmtDate(p.through)}.
        </p>
        <UsageChart mean={history} p95={undefined} forecast={forecast.data} unit={p.currency} title="Daily spend before credits, and its forecast" meanLabel="daily spend before credits" />
        {oneOff.length > 0 && (
          <>
            <h3>Credits and adjustments</h3>
            <SignedBars days={oneOff} currency={p.currency} title="Credits and adjustments per charge day" testId="credits-chart" />
          </>
        )}
        <div className="grid-3">
          <Split spend={p} title="By provider" link={(n) => `/${queryString({ provider: n })}`} />
          <Split spend={service.data} title="By service" link={() => "/reports"} />
          <Split spend={team.data} title="By team" link={(n) => `/${queryString({ tag: n.startsWith("(") ? "" : `team=${n}` })}`} />
        </div>
      </>
    );
  }
  return (
    <section className="card" aria-labelledby="spend-title" data-testid="spend">
      <h2 id="spend-title">Spend: daily history and forecast, this month by provider, service and team</h2>
      {body}
    </section>
  );
}

function TopOpportunities() {
  const recs = useQuery({
    queryKey: ["recommendations", "top10"],
    queryFn: () => unwrap(api.GET("/api/recommendations", { params: { query: { status: ["open"], sort: "-savings", size: 10, min_savings: 0.01 } } })),
  });
  return (
    <section className="card" aria-labelledby="top-title" data-testid="top-opportunities">
      <h2 id="top-title">Ten largest opportunities</h2>
      {recs.isPending ? (
        <Loading what="recommendations" />
      ) : recs.isError ? (
        <ErrorNotice error={recs.error} what="recommendations" />
      ) : recs.data.items.length === 0 ? (
        <Empty>No open recommendation.</Empty>
      ) : (
        <ol className="runway-list">
          {recs.data.items.map((r) => (
            <li key={r.id} data-testid="opportunity">
              <span>
                <Link to={`/recommendations${queryString({ resource: r.resource_key })}`}>{r.title}</Link>{" "}
                <span className="muted small">
                  on{" "}
                  {r.resource_pk !== null && r.resource_pk !== undefined ? (
                    <Link to={`/resources/${r.resource_pk}`} data-testid="opportunity-resource">
                      {r.resource_name || r.resource_key}
                    </Link>
                  ) : (
                    <span data-testid="opportunity-resource">{r.resource_key}</span>
                  )}
                </span>
              </span>
              <b>{fmtMoney(r.monthly_savings_effective)}/mo</b>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
