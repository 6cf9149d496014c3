// What-if scenarios (growth per month, a launch on a date, a migration to another instance family) and their
// projected capacity and cost against the baseline.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useMemo, useState, type FormEvent } from "react";
import type { EChartsOption } from "echarts";
import { api, unwrap, type ScenarioCompare } from "../api/client";
import { allows, type Role } from "../App";
import { useCapabilities } from "../capabilities";
import { EChart } from "../components/EChart";
import { Empty, ErrorNotice, Loading, NotAvailable } from "../components/StateViews";
import { fmtMoney, fmtNumber, fmtPercent } from "../format";
import { useParamUpdater, useRoute } from "../urlState";

export function ScenariosView({ role }: { role: Role }) {
  const { caps, ready } = useCapabilities();
  if (!ready) return <Loading what="the API's capabilities" />;
  return (
    <>
      <h1 className="page-title">Scenarios</h1>
      {caps.has("/api/scenarios") ? (
        <Scenarios canEdit={allows(role, "editor")} />
      ) : (
        <NotAvailable what="Scenarios" route="GET /api/scenarios" issue="the recommendations issue adds it" />
      )}
    </>
  );
}

function Scenarios({ canEdit }: { canEdit: boolean }) {
  const { params } = useRoute();
  const set = useParamUpdater();
  const list = useQuery({ queryKey: ["scenarios"], queryFn: () => unwrap(api.GET("/api/scenarios")) });
  const selected = Number(params.get("scenario")) || list.data?.items[0]?.id || null;
  return (
    <>
      {canEdit && <ScenarioForm onCreated={(id) => set({ scenario: id }, { push: true })} />}
      <section className="card" aria-labelledby="scen-list-title" data-testid="scenario-list">
        <h2 id="scen-list-title">Saved scenarios</h2>
        {list.isPending ? (
          <Loading what="scenarios" />
        ) : list.isError ? (
          <ErrorNotice error={list.error} what="scenarios" />
        ) : list.data.items.length === 0 ? (
          <Empty testId="scenarios-empty">No scenario yet{canEdit ? ": define one above." : " (an editor can define one)."}</Empty>
        ) : (
          <div className="segmented wrap" role="group" aria-label="Scenario">
            {list.data.items.map((s) => (
              <button key={s.id} type="button" aria-pressed={s.id === selected} className={s.id === selected ? "active" : undefined} onClick={() => set({ scenario: s.id })}>
                {s.name}
              </button>
            ))}
          </div>
        )}
      </section>
      {selected !== null && <Comparison id={selected} canEdit={canEdit} onDeleted={() => set({ scenario: "" })} />}
    </>
  );
}

function ScenarioForm({ onCreated }: { onCreated: (id: number) => void }) {
  const client = useQueryClient();
  const id = useId();
  const today = new Date().toISOString().slice(0, 10);
  const [f, setF] = useState({ name: "", growth: "5", months: "12", launchOn: "", launchPercent: "", migrateOn: "", toFamily: "", fromFamily: "", factor: "1" });
  const field = (k: keyof typeof f) => ({ id: `${id}-${k}`, value: f[k], onChange: (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value }) });
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/scenarios", {
          body: {
            name: f.name.trim(),
            description: "defined in the dashboard",
            scale: "scale_out",
            target_utilisation_percent: 80,
            months: Number(f.months) || 12,
            growth: f.growth ? { percent_per_month: Number(f.growth) } : null,
            launches: f.launchOn && f.launchPercent ? [{ on: f.launchOn, added_percent: Number(f.launchPercent) }] : [],
            migrations: f.migrateOn && f.toFamily ? [{ on: f.migrateOn, to_family: f.toFamily, from_family: f.fromFamily || null, performance_factor: Number(f.factor) || 1 }] : [],
          },
        }),
      ),
    onSuccess: (s) => {
      void client.invalidateQueries({ queryKey: ["scenarios"] });
      onCreated(s.id);
    },
  });
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (f.name.trim()) create.mutate();
  }
  return (
    <section className="card" aria-labelledby="scen-new-title">
      <h2 id="scen-new-title">New what-if</h2>
      <form className="scenario-form" onSubmit={submit} data-testid="scenario-form">
        <div className="inline-form">
        <label htmlFor={`${id}-name`}>
          <span>Name</span>
          <input {...field("name")} required maxLength={128} data-testid="scenario-name" />
        </label>
        <label htmlFor={`${id}-growth`}>
          <span>Growth % per month</span>
          <input {...field("growth")} type="number" step="0.1" min={-100} max={500} data-testid="scenario-growth" />
        </label>
        <label htmlFor={`${id}-months`}>
          <span>Months</span>
          <input {...field("months")} type="number" min={1} max={60} />
        </label>
        </div>
        <fieldset className="inline-form">
          <legend>A launch</legend>
          <label htmlFor={`${id}-launchOn`}>
            <span>On</span>
            <input {...field("launchOn")} type="date" min={today} />
          </label>
          <label htmlFor={`${id}-launchPercent`}>
            <span>Adds % of load</span>
            <input {...field("launchPercent")} type="number" min={0} max={10000} />
          </label>
        </fieldset>
        <fieldset className="inline-form">
          <legend>A migration</legend>
          <label htmlFor={`${id}-migrateOn`}>
            <span>On</span>
            <input {...field("migrateOn")} type="date" />
          </label>
          <label htmlFor={`${id}-fromFamily`}>
            <span>From family</span>
            <input {...field("fromFamily")} placeholder="m5 (any)" />
          </label>
          <label htmlFor={`${id}-toFamily`}>
            <span>To family</span>
            <input {...field("toFamily")} placeholder="m7g" />
          </label>
          <label htmlFor={`${id}-factor`}>
            <span>Performance factor</span>
            <input {...field("factor")} type="number" step="0.05" min={0.1} max={10} />
          </label>
        </fieldset>
        <div>
          <button type="submit" className="primary" disabled={create.isPending} data-testid="scenario-create">
            Save and compare
          </button>
        </div>
      </form>
      {create.isError && <ErrorNotice error={create.error} what="the scenario" />}
    </section>
  );
}

function compareOption(c: ScenarioCompare): EChartsOption {
  const months = c.months.map((m) => m.month);
  return {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll" },
    // room above the plot for the legend and the axis names, so no bar is clipped
    grid: { left: 8, right: 16, top: 64, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: months },
    yAxis: [
      { type: "value", name: "cost a month", min: 0, axisLabel: { formatter: (v: number) => fmtMoney(v) } },
      { type: "value", name: "demand (busy vCPU)", min: 0, splitLine: { show: false } },
    ],
    series: [
      { name: "Baseline cost", type: "line", data: c.months.map((m) => m.baseline_cost), color: "#64748b", tooltip: { valueFormatter: (v) => fmtMoney(Number(v)) } },
      { name: "Scenario cost", type: "line", data: c.months.map((m) => m.scenario_cost), color: "#7c3aed", tooltip: { valueFormatter: (v) => fmtMoney(Number(v)) } },
      { name: "Baseline demand (vCPU)", type: "bar", yAxisIndex: 1, data: c.months.map((m) => m.baseline_demand_vcpus), color: "#cbd5e1" },
      { name: "Scenario demand (vCPU)", type: "bar", yAxisIndex: 1, data: c.months.map((m) => m.scenario_demand_vcpus), color: "#c4b5fd" },
    ],
  };
}

function Comparison({ id, canEdit, onDeleted }: { id: number; canEdit: boolean; onDeleted: () => void }) {
  const client = useQueryClient();
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/scenarios/{scenario_id}", { params: { path: { scenario_id: id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["scenarios"] });
      onDeleted();
    },
  });
  const cmp = useQuery({
    queryKey: ["scenario-compare", id],
    queryFn: () => unwrap(api.GET("/api/scenarios/{scenario_id}/compare", { params: { path: { scenario_id: id } } })),
  });
  const option = useMemo(() => (cmp.data ? compareOption(cmp.data) : null), [cmp.data]);
  return (
    <section className="card" aria-labelledby="cmp-title" data-testid="scenario-compare">
      <h2 id="cmp-title">{cmp.data ? `${cmp.data.scenario.name} against the baseline` : "Comparison"}</h2>
      {cmp.isPending ? (
        <Loading what="the comparison" />
      ) : cmp.isError ? (
        <ErrorNotice error={cmp.error} what="the comparison" onRetry={() => void cmp.refetch()} />
      ) : (
        <>
          <dl className="facts summary">
            <div>
              <dt>Resources projected</dt>
              <dd>{cmp.data.resources}</dd>
            </div>
            <div>
              <dt>Fleet today, a month</dt>
              <dd data-testid="scenario-baseline-month" title="the fleet's billed run rate: the executive view's monthly run rate">
                {fmtMoney(cmp.data.fleet_monthly_cost)}
              </dd>
            </div>
            <div>
              <dt>Baseline cost, {cmp.data.months.length} months</dt>
              <dd>{fmtMoney(cmp.data.baseline_total_cost)}</dd>
            </div>
            <div>
              <dt>Scenario cost</dt>
              <dd data-testid="scenario-cost">{fmtMoney(cmp.data.scenario_total_cost)}</dd>
            </div>
            <div>
              <dt>Difference</dt>
              <dd>{fmtMoney(cmp.data.total_cost_delta)}</dd>
            </div>
          </dl>
          {option && cmp.data.months.length > 0 && <EChart option={option} className="small-chart" testId="scenario-chart" ariaLabel="Baseline and scenario cost and demand per month" />}
          <div className="table-wrap">
            <table className="resources">
              <thead>
                <tr>
                  <th scope="col">Month</th>
                  <th scope="col" className="num">Baseline capacity (vCPU)</th>
                  <th scope="col" className="num">Scenario capacity (vCPU)</th>
                  <th scope="col" className="num">Scenario utilisation</th>
                  <th scope="col" className="num">Baseline cost</th>
                  <th scope="col" className="num">Scenario cost</th>
                  <th scope="col">Over target</th>
                </tr>
              </thead>
              <tbody>
                {cmp.data.months.map((m) => (
                  <tr key={m.month}>
                    <td data-label="Month">{m.month}</td>
                    <td data-label="Baseline capacity (vCPU)" className="num">{fmtNumber(m.baseline_capacity_vcpus)}</td>
                    <td data-label="Scenario capacity (vCPU)" className="num">{fmtNumber(m.scenario_capacity_vcpus)}</td>
                    <td data-label="Scenario utilisation" className="num">{fmtPercent(m.scenario_utilisation)}</td>
                    <td data-label="Baseline cost" className="num">{fmtMoney(m.baseline_cost)}</td>
                    <td data-label="Scenario cost" className="num">{fmtMoney(m.scenario_cost)}</td>
                    <td data-label="Over target">{m.over_target.length ? m.over_target.join(", ") : "none"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {canEdit && (
            <p>
              <button type="button" onClick={() => remove.mutate()} disabled={remove.isPending} data-testid="scenario-delete">
                Delete this scenario
              </button>
            </p>
          )}
          {remove.isError && <ErrorNotice error={remove.error} what="deleting the scenario" />}
          {cmp.data.skipped.length > 0 && (
            <details>
              <summary>{cmp.data.skipped.length} resources left out</summary>
              <ul>
                {cmp.data.skipped.map((s, i) => (
                  <li key={i}>{typeof s === "string" ? s : JSON.stringify(s)}</li>
                ))}
              </ul>
            </details>
          )}
        </>
      )}
    </section>
  );
}
