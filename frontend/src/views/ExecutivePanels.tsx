// The executive view's spend-against-budget and commitment-coverage panels.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import type { EChartsOption } from "echarts";
import { api, unwrap, type Budgets, type CommitmentCoverage } from "../api/client";
import { EChart } from "../components/EChart";
import { Link } from "../components/Link";
import { Empty, ErrorNotice, Loading } from "../components/StateViews";
import { fmtDate, fmtMoney, fmtPercent } from "../format";
import { queryString } from "../urlState";

const STATUS_TEXT: Record<string, string> = {
  over: "over budget (spent or forecast)",
  at_risk: "at risk: the 80% interval reaches the budget",
  under: "within budget",
  unknown: "no month-end forecast",
};

export function BudgetPanel() {
  const budgets = useQuery({ queryKey: ["spend", "budgets"], queryFn: () => unwrap(api.GET("/api/spend/budgets")) });
  let body: ReactNode;
  if (budgets.isPending) body = <Loading what="budgets" />;
  else if (budgets.isError) body = <ErrorNotice error={budgets.error} what="budgets" onRetry={() => void budgets.refetch()} />;
  else if (budgets.data.items.length === 0)
    body = (
      <Empty testId="budgets-empty">
        No monthly budget is set. An administrator sets budgets in Headroom&apos;s settings (see the Dashboard page of the
        documentation, &ldquo;Budgets&rdquo;).
      </Empty>
    );
  else {
    const b: Budgets = budgets.data;
    body = (
      <div className="table-wrap">
      <table className="resources" data-testid="budgets">
        <caption className="muted small">
          {fmtDate(b.period_start)} – {fmtDate(b.period_end)}
          {b.through ? `, costs through ${fmtDate(b.through)}` : ", no cost data yet"}
        </caption>
        <thead>
          <tr>
            <th scope="col">Budget</th>
            <th scope="col" className="num">Monthly budget</th>
            <th scope="col" className="num">Spent</th>
            <th scope="col" className="num">Month-end forecast (80%)</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {b.items.map((item) => (
            <tr key={item.scope} data-testid={`budget-${item.scope}`}>
              <th scope="row">
                <Link to={item.scope === "total" ? "/reports" : `/${queryString({ provider: item.scope })}`}>{item.scope}</Link>
              </th>
              <td className="num">{fmtMoney(item.budget, b.currency)}</td>
              <td className="num">
                {fmtMoney(item.month_to_date, b.currency)} <span className="muted">({fmtPercent(item.used, true)})</span>
              </td>
              <td className="num">
                {item.month_end ? (
                  <>
                    {fmtMoney(item.month_end.mean, b.currency)}{" "}
                    <span className="muted">
                      ({fmtMoney(item.month_end.lo80, b.currency)} – {fmtMoney(item.month_end.hi80, b.currency)})
                    </span>
                  </>
                ) : (
                  <span className="muted">{item.reason}</span>
                )}
              </td>
              <td>
                <span className={`badge budget-${item.status}`}>{STATUS_TEXT[item.status] ?? item.status}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    );
  }
  return (
    <section className="card" aria-labelledby="budget-title" data-testid="budget-panel">
      <h2 id="budget-title">Spend against budget</h2>
      {body}
    </section>
  );
}

export function CoveragePanel() {
  const coverage = useQuery({
    queryKey: ["spend", "commitment-coverage"],
    queryFn: () => unwrap(api.GET("/api/spend/commitment-coverage", { params: { query: { period: "week", days: 91 } } })),
  });
  let body: ReactNode;
  if (coverage.isPending) body = <Loading what="commitment coverage" />;
  else if (coverage.isError) body = <ErrorNotice error={coverage.error} what="commitment coverage" onRetry={() => void coverage.refetch()} />;
  else if (!coverage.data.available) body = <Empty testId="coverage-unavailable">Commitment coverage is not available: {coverage.data.reason}.</Empty>;
  else {
    const c: CommitmentCoverage = coverage.data;
    const option: EChartsOption = {
      aria: { enabled: true },
      grid: { left: 48, right: 16, top: 16, bottom: 44 },
      // weeks are UTC calendar weeks whatever the dashboard's zone: the axis and tooltip say so
      tooltip: {
        trigger: "axis",
        formatter: (raw) => {
          const p = (Array.isArray(raw) ? raw : [raw])[0];
          const week = p ? c.items[p.dataIndex] : undefined;
          return week ? `<b>Week of ${fmtDate(week.start)} (UTC)</b><br/>${fmtPercent(week.coverage, true)} covered` : "";
        },
      },
      xAxis: { type: "category", name: "week starting (UTC)", nameLocation: "middle", nameGap: 24, data: c.items.map((p) => fmtDate(p.start)) },
      yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: (v: number) => fmtPercent(v, true) } },
      series: [{ type: "bar", name: "covered", data: c.items.map((p) => p.coverage) }],
    };
    const last = c.items.at(-1);
    body = (
      <>
        <p data-testid="coverage-latest">
          {last && (
            <>
              Week of {fmtDate(last.start)}: <b>{fmtPercent(last.coverage, true)}</b> of {fmtMoney(last.eligible_list, c.currency)} eligible
              usage (at list price) was covered; it cost {fmtMoney(last.effective, c.currency)}.{" "}
            </>
          )}
          <Link to={`/recommendations${queryString({ kind: "commitment" })}`}>Commitment recommendations</Link>
        </p>
        <EChart option={option} ariaLabel="Share of eligible usage covered by commitments, per week" testId="coverage-chart" className="small-chart" />
        <p className="muted small">{c.basis}</p>
      </>
    );
  }
  return (
    <section className="card" aria-labelledby="commit-title" data-testid="commitment-coverage">
      <h2 id="commit-title">Commitment coverage over time</h2>
      {body}
    </section>
  );
}
