// Predictive autoscaling: a scalable group's last week replayed (demand, Headroom's plan, target tracking on one
// chart, with the cost and risk of each) and its plan for the next 48 hours.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import type { EChartsOption } from "echarts";
import { api, unwrap, type AutoscalingPlan } from "../api/client";
import { useCapabilities } from "../capabilities";
import { EChart } from "../components/EChart";
import { Empty, ErrorNotice, Loading, NotAvailable } from "../components/StateViews";
import { fmtAxisTime, fmtDateTime, fmtNumber, fmtPercent, timeAxisName } from "../format";
import { useTimeZone, zoneLabel } from "../timeZone";
import { useParamUpdater, useRoute } from "../urlState";

const SHOWN = ["headroom predictive", "reactive target tracking", "seasonal predictive + reactive floor", "oracle"];

export function AutoscalingView() {
  const { caps, ready } = useCapabilities();
  if (!ready) return <Loading what="the API's capabilities" />;
  return (
    <>
      <h1 className="page-title">Predictive autoscaling</h1>
      {caps.has("/api/autoscaling/groups") ? (
        <Groups />
      ) : (
        <NotAvailable what="Autoscaling" route="GET /api/autoscaling/groups" issue="issue 17 adds it" />
      )}
    </>
  );
}

function Groups() {
  const { params } = useRoute();
  const set = useParamUpdater();
  const list = useQuery({ queryKey: ["autoscaling-groups"], queryFn: () => unwrap(api.GET("/api/autoscaling/groups")) });
  const selected = Number(params.get("group")) || list.data?.items[0]?.id || null;
  return (
    <>
      <section className="card" aria-labelledby="as-groups-title" data-testid="autoscaling-groups">
        <h2 id="as-groups-title">Scalable groups</h2>
        {list.isPending ? (
          <Loading what="scalable groups" />
        ) : list.isError ? (
          <ErrorNotice error={list.error} what="scalable groups" />
        ) : list.data.items.length === 0 ? (
          <Empty testId="autoscaling-empty">No Auto Scaling group, instance group, scale set or deployment is collected yet.</Empty>
        ) : (
          <div className="segmented wrap" role="group" aria-label="Group">
            {list.data.items.map((g) => (
              <button key={g.id} type="button" aria-pressed={g.id === selected} className={g.id === selected ? "active" : undefined} onClick={() => set({ group: g.id })}>
                {g.name} <span className="muted">({g.kind})</span>
              </button>
            ))}
          </div>
        )}
      </section>
      {selected !== null && <GroupPlan id={selected} />}
    </>
  );
}

/** Demand, Headroom's plan and target tracking over the replayed week, in instances. */
export function replayOption(plan: AutoscalingPlan): EChartsOption {
  const s = plan.replay_series;
  const t = s.timestamps.map((x) => new Date(x).getTime());
  const pair = (values: (number | null)[]) => values.map((v, i) => [t[i], v]);
  return {
    animation: false,
    tooltip: {
      trigger: "axis",
      confine: true,
      // the moment in the dashboard's one time zone, named, then each series in instances
      formatter: (raw) => {
        const params = Array.isArray(raw) ? raw : [raw];
        const t = (params[0]?.value as [number, number | null] | undefined)?.[0];
        if (t === undefined) return "";
        const lines = params.map((p) => `${p.marker} ${p.seriesName}: <b>${fmtNumber(Number((p.value as [number, number | null])[1]))}</b>`);
        return [`<b>${fmtDateTime(t)}</b>`, ...lines].join("<br/>");
      },
    },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 36, bottom: 60, containLabel: true },
    xAxis: { type: "time", name: timeAxisName(), nameLocation: "middle", nameGap: 26, axisLabel: { hideOverlap: true, formatter: (v: number) => fmtAxisTime(v) } },
    yAxis: { type: "value", name: "instances" },
    dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
    series: [
      { name: "Demand (instances needed)", type: "line", showSymbol: false, data: pair(s.demand), color: "#94a3b8", areaStyle: { opacity: 0.25 } },
      { name: "Headroom plan", type: "line", step: "end", showSymbol: false, data: pair(s.plan), color: "#7c3aed" },
      { name: "Target tracking", type: "line", step: "end", showSymbol: false, data: pair(s.reactive), color: "#ea580c" },
    ],
  };
}

function GroupPlan({ id }: { id: number }) {
  const q = useQuery({
    queryKey: ["autoscaling-plan", id],
    queryFn: () => unwrap(api.GET("/api/autoscaling/groups/{group_pk}/plan", { params: { path: { group_pk: id } } })),
  });
  const zone = useTimeZone(); // the axis and tooltip format times in it: a switch redraws the chart
  const option = useMemo(() => (q.data ? replayOption(q.data) : null), [q.data, zone]);
  return (
    <section className="card" aria-labelledby="as-plan-title" data-testid="autoscaling-plan">
      <h2 id="as-plan-title">{q.data ? `${q.data.group.name}: the last week replayed` : "Plan"}</h2>
      {q.isPending ? (
        <Loading what="the plan (the group's history is replayed first)" />
      ) : q.isError ? (
        <ErrorNotice error={q.error} what="the plan" onRetry={() => void q.refetch()} />
      ) : (
        <>
          {option && <EChart option={option} className="small-chart" testId="autoscaling-chart" ariaLabel="Demand, Headroom's plan and target tracking over the last week, in instances" />}
          {option && (
            <p className="muted small" data-testid="chart-zone">
              times in {zoneLabel(zone)}
            </p>
          )}
          <div className="table-wrap">
            <table className="resources" data-testid="autoscaling-replay">
              <thead>
                <tr>
                  <th scope="col">Policy</th>
                  <th scope="col" className="num">Cost / oracle</th>
                  <th scope="col" className="num">Under-provisioned</th>
                  <th scope="col" className="num">Unserved</th>
                  <th scope="col" className="num">Scaling actions</th>
                </tr>
              </thead>
              <tbody>
                {q.data.replay.filter((r) => SHOWN.includes(r.policy)).map((r) => (
                  <tr key={r.policy}>
                    <td data-label="Policy">{r.policy}</td>
                    <td data-label="Cost / oracle" className="num">{fmtNumber(r.cost)}</td>
                    <td data-label="Under-provisioned" className="num">{fmtPercent(r.under_provisioned, true)}</td>
                    <td data-label="Unserved" className="num">{fmtPercent(r.unserved, true)}</td>
                    <td data-label="Scaling actions" className="num">{r.actions}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <dl className="facts summary">
            <div>
              <dt>Next 48 hours</dt>
              <dd data-testid="autoscaling-peak">
                {Math.min(...q.data.hourly)}–{Math.max(...q.data.hourly)} instances{q.data.reaches_max ? " (reaches the maximum size)" : ""}
              </dd>
            </div>
            <div>
              <dt>Reactive part</dt>
              <dd>
                target {fmtPercent(q.data.target_utilisation, true)}, cooldown {q.data.cooldown_seconds / 60} min
              </dd>
            </div>
            <div>
              <dt>Plan</dt>
              <dd>{q.data.plan}</dd>
            </div>
          </dl>
        </>
      )}
    </section>
  );
}
