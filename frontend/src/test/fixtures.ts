// Example API answers, shaped by the generated types (so a schema change breaks the tests at compile time).
import type { FleetRow, Recommendation, Runway, Spend, Forecast } from "../api/client";

export function recommendation(over: Partial<Recommendation> = {}): Recommendation {
  return {
    id: 7,
    kind: "idle",
    status: "open",
    title: "Stop idle legacy-reporting-stg-02",
    resource_key: "aws:i-72d874bc549eb7bd9",
    resource_pk: 2,
    finding: "idle",
    monthly_savings_effective: 33.87,
    monthly_savings_list: 33.87,
    realised_savings_monthly: null,
    realised_detail: {},
    risk: 1,
    reasons: [],
    alternatives: [],
    current: { instance_type: "t2.medium" },
    proposed: { action: "stop" },
    evidence: {
      coverage_hours: 240,
      coverage_ratio: 1,
      percentile: "p95",
      headroom: 0.2,
      observed: { cpu_p95: 1.5 },
      forecast_peak: {},
      projected_utilisation: {},
      reasons: ["CPU p95 1.5% over 10 days", "no network traffic"],
      risk: 1,
    },
    dismissed_reason: "",
    created_at: "2026-11-23T13:00:00Z",
    updated_at: "2026-11-23T13:00:00Z",
    last_seen_at: "2026-11-23T13:00:00Z",
    accepted_at: null,
    implemented_at: null,
    verified_at: null,
    dismissed_at: null,
    ...over,
  } as Recommendation;
}

export function fleetRow(over: Partial<FleetRow> = {}): FleetRow {
  return {
    id: 1, resource_id: "i-1", provider: "aws", name: "web-1", kind: "vm", account: "a", region: "r",
    instance_type: "m5.large", vcpus: 2, memory_gib: 8, hourly_price: 0.096, environment: "production", tags: {},
    cpu_p95_7d: 45.123, memory_p95_7d: null, forecast_peak_14d: 50, forecast_metric: "cpu_utilization",
    last_data_at: "2026-11-23T13:00:00Z", open_recommendations: 2, ...over,
  };
}

export function runway(over: Partial<Runway> = {}): Runway {
  return {
    id: 1, resource_key: "aws:i-1", metric: "cpu_utilization", title: "t", method: "forecast", threshold: 80,
    current: 40, p50_days: null, p90_days: null, horizon_days: 14, lead_time_days: 7, flagged: false, severity: "ok",
    severity_reason: "no crossing inside the 7-day lead time", ...over,
  } as Runway;
}

export function spend(over: Partial<Spend> = {}): Spend {
  return {
    by: "provider", currency: "USD", period_start: "2026-11-01", through: "2026-11-28", month_to_date: 280,
    parts: [{ name: "aws", effective: 280 }], daily: [], ...over,
  };
}

export function dailyForecast(from: string, days: number, mean: number): Forecast {
  const t0 = Date.parse(`${from}T00:00:00Z`);
  return {
    series_id: "cost:total", stat: "daily_cost", model: "ensemble", as_of: from, created_at: from, step: 86400,
    points: Array.from({ length: days }, (_, i) => ({
      t: new Date(t0 + i * 86_400_000).toISOString(), mean, lo80: mean - 1, hi80: mean + 1, lo95: mean - 2, hi95: mean + 2,
    })),
  };
}
