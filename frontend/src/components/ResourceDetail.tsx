// One resource: its facts, its series, a metric and range picker, and the usage-and-forecast chart.
import { useQuery } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Forecast, type Resource, type Series } from "../api/client";
import { useCapabilities } from "../capabilities";
import { ForecastQuality } from "./ForecastQuality";
import { DASH, fmtMemory, fmtNumber, fmtPrice, fmtValue } from "../format";
import { RANGES, rangeParam, useParamUpdater, type RangeKey } from "../urlState";
import { Empty, ErrorNotice, Loading } from "./StateViews";
import { useThresholds } from "./thresholds";
import { UsageChart } from "./UsageChart";

const DAY = 86_400_000;
const RANGE_DAYS: Record<RangeKey, number> = { "1d": 1, "7d": 7, "30d": 30, "90d": 90 };
// Seconds per bucket: a few hundred points per range (LTTB thins them further on screen), and buckets wide
// enough that their p95 says something the mean does not.
const RANGE_STEP: Record<RangeKey, number> = { "1d": 300, "7d": 1800, "30d": 3600, "90d": 10800 };

/** Labels that tell this resource's series apart; the ones they all share repeat the resource's facts. */
function distinguishingLabels(items: Series[]): Set<string> {
  const keys = new Set(items.flatMap((s) => Object.keys(s.labels)));
  return new Set([...keys].filter((k) => new Set(items.map((s) => s.labels[k] ?? "")).size > 1));
}

function seriesLabel(s: Series, shown: Set<string>): string {
  const labels = Object.entries(s.labels)
    .filter(([k]) => shown.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return `${s.metric}${labels ? ` {${labels}}` : ""}${s.unit ? ` (${s.unit})` : ""}`;
}

/** The series shown when the URL names none: CPU first, since that is what right-sizing is about. */
function defaultSeries(items: Series[]): Series | undefined {
  return items.find((s) => /cpu/i.test(s.metric)) ?? items[0];
}

/**
 * The usage window ends now, unless the forecast starts before the window does (data replayed from an
 * old trace): then it ends where the forecast starts, so history and forecast meet on screen.
 */
function usageWindow(range: RangeKey, forecast: Forecast | undefined): { start: string; end: string; step: number } {
  const step = RANGE_STEP[range];
  const stepMs = step * 1000;
  const span = RANGE_DAYS[range] * DAY;
  let end = Math.ceil(Date.now() / stepMs) * stepMs; // stable for one step, so the query key is too
  const first = forecast?.points[0];
  if (first) {
    const forecastStart = Date.parse(first.t);
    if (forecastStart < end - span) end = Math.ceil(forecastStart / stepMs) * stepMs;
  }
  return { start: new Date(end - span).toISOString(), end: new Date(end).toISOString(), step };
}

export function ResourceDetail({ resource, params }: { resource: Resource; params: URLSearchParams }) {
  return (
    <>
      <ResourceFacts resource={resource} />
      <ResourceUsage resource={resource} params={params} />
    </>
  );
}

function ResourceFacts({ resource: r }: { resource: Resource }) {
  const facts: [string, string][] = [
    ["ID", r.resource_id],
    ["Provider", r.provider],
    ["Kind", r.kind],
    ["Account", r.account || DASH],
    ["Region", r.region || DASH],
    ["Environment", r.environment || DASH],
    ["Instance type", r.instance_type || DASH],
    ["vCPU", fmtNumber(r.vcpus)],
    ["Memory", fmtMemory(r.memory_gib)],
    ["Hourly price", fmtPrice(r.hourly_price)],
  ];
  const tags = Object.entries(r.tags);
  return (
    <>
      <dl className="facts">
        {facts.map(([k, v]) => (
          <div key={k} className={k === "ID" && v.length > 24 ? "wide" : undefined}>
            <dt>{k}</dt>
            <dd className={k === "ID" ? "mono" : undefined}>{v}</dd>
          </div>
        ))}
      </dl>
      {tags.length > 0 && (
        <ul className="tags" aria-label="Tags">
          {tags.map(([k, v]) => (
            <li key={k}>
              <span>{k}</span>
              {v}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function ResourceUsage({ resource, params }: { resource: Resource; params: URLSearchParams }) {
  const update = useParamUpdater();
  const view = { series: params.get("series") ?? "", range: rangeParam(params) };
  const series = useQuery({
    queryKey: ["series", resource.resource_id],
    queryFn: () => unwrap(api.GET("/api/series", { params: { query: { resource_id: resource.resource_id } } })),
  });
  const items = series.data?.items ?? [];
  const selected = items.find((s) => s.series_id === view.series) ?? defaultSeries(items);
  const shownLabels = distinguishingLabels(items);

  if (series.isPending) return <Loading what="series" />;
  if (series.isError) return <ErrorNotice error={series.error} what="series" onRetry={() => void series.refetch()} />;
  if (!selected) return <Empty testId="series-empty">No metrics collected for this resource yet.</Empty>;

  return (
    <div className="usage">
      <div className="controls">
        <label>
          <span>Metric</span>
          <select
            value={selected.series_id}
            onChange={(e) => update({ series: e.target.value })}
            data-testid="metric-picker"
          >
            {items.map((s) => (
              <option key={s.series_id} value={s.series_id}>
                {seriesLabel(s, shownLabels)}
              </option>
            ))}
          </select>
        </label>
        <div className="segmented" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button
              key={r}
              type="button"
              aria-pressed={view.range === r}
              className={view.range === r ? "active" : undefined}
              onClick={() => update({ range: r })}
              data-testid={`range-${r}`}
            >
              {r}
            </button>
          ))}
        </div>
      </div>
      <SeriesChart series={selected} range={view.range} />
    </div>
  );
}

function SeriesChart({ series, range }: { series: Series; range: RangeKey }) {
  const sid = series.series_id;
  const forecast = useQuery({
    queryKey: ["forecast", sid, "mean"],
    queryFn: () => unwrap(api.GET("/api/forecasts", { params: { query: { series_id: sid, stat: "mean" } } })),
  });
  const noForecast = forecast.error instanceof ApiError && forecast.error.status === 404;
  const window_ = usageWindow(range, forecast.data);
  const metricsQuery = (agg: "mean" | "p95") => ({
    queryKey: ["metrics", sid, window_.start, window_.end, window_.step, agg],
    queryFn: () =>
      unwrap(api.GET("/api/metrics", { params: { query: { series_id: sid, ...window_, agg } } })),
    // Wait for the forecast so the window can be anchored to it (see usageWindow).
    enabled: !forecast.isPending,
  });
  const mean = useQuery(metricsQuery("mean"));
  const p95 = useQuery(metricsQuery("p95"));
  const { caps } = useCapabilities();
  const anomalies = useQuery({
    queryKey: ["anomalies", sid, window_.start],
    queryFn: () => unwrap(api.GET("/api/anomalies", { params: { query: { series_id: sid, since: window_.start, limit: 200 } } })),
    enabled: caps.has("/api/anomalies"),
  });

  const thresholds = useThresholds(series.resource_id, series.metric);
  const usageCount = (mean.data?.points.length ?? 0) + (p95.data?.points.length ?? 0);
  const title = `${series.metric} usage over ${range}${forecast.data ? " with forecast" : ""}`;

  return (
    <div className="series-chart">
      {forecast.isPending || mean.isPending ? (
        <Loading what="usage" />
      ) : mean.isError ? (
        <ErrorNotice error={mean.error} what="usage" onRetry={() => void mean.refetch()} />
      ) : usageCount === 0 && !forecast.data ? (
        <Empty testId="usage-empty">No {series.metric} data in the last {range}.</Empty>
      ) : (
        <UsageChart
          mean={mean.data}
          p95={p95.data}
          forecast={forecast.data}
          unit={series.unit}
          title={title}
          anomalies={anomalies.data?.items}
          thresholds={thresholds}
        />
      )}
      {p95.isError && <ErrorNotice error={p95.error} what="p95 usage" />}
      {noForecast ? (
        <Empty testId="forecast-empty">No forecast yet for this series — it appears after the next training run.</Empty>
      ) : forecast.isError ? (
        <ErrorNotice error={forecast.error} what="the forecast" onRetry={() => void forecast.refetch()} />
      ) : forecast.data ? (
        <ForecastSummary forecast={forecast.data} unit={series.unit} />
      ) : null}
      {anomalies.isError && <ErrorNotice error={anomalies.error} what="anomalies" />}
      <ForecastQuality seriesId={sid} />
    </div>
  );
}

function ForecastSummary({ forecast, unit }: { forecast: Forecast; unit: string }) {
  const pts = forecast.points;
  const last = pts[pts.length - 1];
  if (!last) return <Empty testId="forecast-empty">The latest forecast has no points.</Empty>;
  const peak = pts.reduce((m, p) => Math.max(m, p.hi95 ?? p.hi80 ?? p.mean), -Infinity);
  const peakMean = pts.reduce((m, p) => Math.max(m, p.mean), -Infinity);
  const horizonDays = (Date.parse(last.t) - Date.parse(pts[0]?.t ?? last.t)) / DAY;
  return (
    <dl className="facts summary" data-testid="forecast-summary">
      <div>
        <dt>Horizon</dt>
        <dd>{horizonDays >= 1 ? `${Math.round(horizonDays)} days` : `${pts.length} points`}</dd>
      </div>
      <div>
        <dt>Peak forecast mean</dt>
        <dd>{fmtValue(peakMean, unit)}</dd>
      </div>
      <div>
        <dt>Peak upper 95%</dt>
        <dd>{fmtValue(peak, unit)}</dd>
      </div>
      <div>
        <dt>Model</dt>
        <dd className="mono">{forecast.model}</dd>
      </div>
      <div>
        <dt>As of</dt>
        <dd>{forecast.as_of}</dd>
      </div>
    </dl>
  );
}
