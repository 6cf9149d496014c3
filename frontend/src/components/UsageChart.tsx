// Usage (mean and p95) with the forecast mean as a dashed line, its 80% / 95% intervals as shaded bands (inside the
// metric's domain: 0-100 for a percentage) and threshold lines; times in the dashboard's one time zone.
import { useCallback, useMemo, useState } from "react";
import type { EChartsOption, LineSeriesOption } from "echarts";
import type { Anomaly, Forecast, Metrics } from "../api/client";
import { fmtAxisTime, fmtDateTime, fmtValue, timeAxisName } from "../format";
import { useTimeZone, zoneLabel } from "../timeZone";
import { EChart } from "./EChart";

const COLORS = { mean: "#2563eb", p95: "#d97706", forecast: "#7c3aed", band80: "rgba(124, 58, 237, 0.28)", band95: "rgba(124, 58, 237, 0.12)" };

type Pair = [number, number | null];

interface Band {
  lower: Pair[];
  width: Pair[];
  drawn: boolean;
}

/** The stacked-area technique: an invisible lower line plus a stacked (upper - lower) area on top of it. */
/** A value inside the metric's domain: a percentage of capacity is never below 0% or above 100%. */
export function inDomain(v: number, unit: string): number {
  return isShare(unit) ? Math.min(100, Math.max(0, v)) : v;
}

export const isShare = (unit: string): boolean => unit === "percent" || unit === "%";

function bandOf(forecast: Forecast, lo: "lo80" | "lo95", hi: "hi80" | "hi95", unit: string): Band {
  const lower: Pair[] = [];
  const width: Pair[] = [];
  let drawn = false;
  for (const p of forecast.points) {
    const t = Date.parse(p.t);
    const rawLo = p[lo];
    const rawHi = p[hi];
    if (rawLo === null || rawHi === null || !Number.isFinite(rawLo) || !Number.isFinite(rawHi)) {
      lower.push([t, null]);
      width.push([t, null]);
    } else {
      const l = inDomain(rawLo, unit);
      const h = inDomain(rawHi, unit);
      lower.push([t, l]);
      width.push([t, Math.max(0, h - l)]);
      drawn = true;
    }
  }
  return { lower, width, drawn };
}

function bandSeries(name: string, stack: string, band: Band, color: string): LineSeriesOption[] {
  const common: LineSeriesOption = { type: "line", stack, symbol: "none", lineStyle: { opacity: 0 }, emphasis: { disabled: true } };
  return [
    { ...common, id: `${stack}-lower`, name: `_${name} lower`, data: band.lower, silent: true, tooltip: { show: false } },
    { ...common, id: `${stack}-width`, name, data: band.width, areaStyle: { color, opacity: 1 }, color },
  ];
}

const toPairs = (m: Metrics | undefined): Pair[] => (m ? m.points.map((p) => [Date.parse(p.t), p.v]) : []);

export interface UsageChartProps {
  mean: Metrics | undefined;
  p95: Metrics | undefined;
  forecast: Forecast | undefined;
  unit: string;
  title: string;
  /** Legend name of the history line (default "usage mean"). */
  meanLabel?: string;
  /** Stretches the forecast did not expect: shaded, with their peak marked. */
  anomalies?: Anomaly[];
  /** Horizontal lines (alert-rule or runway thresholds) in the chart's unit. */
  thresholds?: Threshold[];
}

export interface Threshold {
  value: number;
  label: string;
}
const NO_THRESHOLDS: Threshold[] = [];
const THRESHOLD = "#b91c1c";

const ANOMALY = "#dc2626";
const NONE: Anomaly[] = [];

export function UsageChart({ mean, p95, forecast, unit, title, meanLabel = "usage mean", anomalies = NONE, thresholds = NO_THRESHOLDS }: UsageChartProps) {
  const [bandDrawn, setBandDrawn] = useState(false);
  const zone = useTimeZone();

  const built = useMemo(() => {
    const band80 = forecast ? bandOf(forecast, "lo80", "hi80", unit) : null;
    const band95 = forecast ? bandOf(forecast, "lo95", "hi95", unit) : null;
    const share = isShare(unit);
    const topThreshold = Math.max(...thresholds.map((th) => th.value), -Infinity);
    const hasBand = Boolean(band80?.drawn || band95?.drawn);
    const forecastStart = forecast?.points[0] ? Date.parse(forecast.points[0].t) : null;
    const lastForecast = forecast?.points[forecast.points.length - 1];
    const forecastEnd = lastForecast ? Date.parse(lastForecast.t) : undefined;
    const windowStart = mean ? Date.parse(mean.start) : undefined;
    const windowEnd = mean ? Date.parse(mean.end) : undefined;
    const byTime = new Map(forecast?.points.map((p) => [Date.parse(p.t), p]) ?? []);
    const allValues = [...toPairs(mean), ...toPairs(p95)].map(([, v]) => v ?? 0);
    const nonNegative = allValues.every((v) => v >= 0) && (forecast?.points.every((p) => p.mean >= 0) ?? true);

    const series: LineSeriesOption[] = [
      // Bands first, so the lines are drawn over them.
      ...(band95?.drawn ? bandSeries("95% interval", "ci95", band95, COLORS.band95) : []),
      ...(band80?.drawn ? bandSeries("80% interval", "ci80", band80, COLORS.band80) : []),
      {
        id: "usage-mean",
        name: meanLabel,
        type: "line",
        data: toPairs(mean),
        showSymbol: false,
        sampling: "lttb",
        color: COLORS.mean,
        lineStyle: { width: 1.5 },
        ...(anomalies.length > 0
          ? {
              markArea: {
                silent: true,
                itemStyle: { color: "rgba(220, 38, 38, 0.10)" },
                data: anomalies.map((a) => [{ xAxis: Date.parse(a.started_at) }, { xAxis: Date.parse(a.ended_at) }]),
              },
              markPoint: {
                symbol: "pin",
                symbolSize: 28,
                itemStyle: { color: ANOMALY },
                label: { show: false },
                data: anomalies.map((a) => ({ name: `anomaly ${a.score.toFixed(1)}σ`, coord: [Date.parse(a.peak_at), a.actual] })),
              },
            }
          : {}),
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { color: "#94a3b8", type: "dotted" },
          label: { formatter: "forecast", position: "end", color: "#64748b" },
          data: [
            ...(forecastStart !== null ? [{ xAxis: forecastStart }] : []),
            ...thresholds.map((th) => ({
              yAxis: th.value,
              name: th.label,
              lineStyle: { color: THRESHOLD, type: "dashed" as const, width: 1.5 },
              label: { formatter: `${th.label} ${fmtValue(th.value, unit)}`, position: "insideEndTop" as const, color: THRESHOLD },
            })),
          ],
        },
      },
      {
        id: "usage-p95",
        name: "Usage (p95)",
        type: "line",
        data: toPairs(p95),
        showSymbol: false,
        sampling: "lttb",
        color: COLORS.p95,
        lineStyle: { width: 1 },
      },
    ];
    if (forecast) {
      series.push({
        id: "forecast-mean",
        name: "Forecast (mean)",
        type: "line",
        data: forecast.points.map((p): Pair => [Date.parse(p.t), inDomain(p.mean, unit)]),
        showSymbol: false,
        sampling: "lttb",
        color: COLORS.forecast,
        lineStyle: { type: "dashed", width: 2 },
      });
    }

    const option: EChartsOption = {
      animation: false,
      aria: { enabled: true, label: { description: title } },
      grid: { left: 8, right: 16, top: 32, bottom: 64, containLabel: true },
      tooltip: {
        trigger: "axis",
        confine: true,
        formatter: (raw) => {
          const params = Array.isArray(raw) ? raw : [raw];
          const first = params[0];
          if (!first) return "";
          const t = (first.value as Pair)[0];
          const lines = [`<b>${fmtDateTime(t)}</b>`];
          for (const p of params) {
            if (typeof p.seriesName !== "string" || p.seriesName.startsWith("_")) continue;
            const [pt, v] = p.value as Pair;
            if (p.seriesId === "ci80-width" || p.seriesId === "ci95-width") {
              const fp = byTime.get(pt);
              const [lo, hi] = p.seriesId === "ci80-width" ? [fp?.lo80, fp?.hi80] : [fp?.lo95, fp?.hi95];
              lines.push(`${p.marker} ${p.seriesName}: ${fmtValue(lo, unit)} – ${fmtValue(hi, unit)}`);
            } else {
              lines.push(`${p.marker} ${p.seriesName}: <b>${fmtValue(v, unit)}</b>`);
            }
          }
          return lines.join("<br/>");
        },
      },
      // The whole requested window, even where it has no data yet, then the forecast horizon.
      xAxis: {
        type: "time",
        min: windowStart,
        max: forecastEnd ?? windowEnd,
        name: timeAxisName(),
        nameLocation: "middle",
        nameGap: 26,
        axisLabel: { hideOverlap: true, formatter: (v: number) => fmtAxisTime(v) },
      },
      yAxis: {
        type: "value",
        name: unit,
        nameTextStyle: { align: "left" },
        // a percentage of capacity: the whole 0-100% scale, never beyond it
        min: share || nonNegative ? 0 : undefined,
        max: share ? 100 : (extent: { max: number }) => Math.max(extent.max, topThreshold),
        scale: !share && !nonNegative,
        axisLabel: { formatter: (v: number) => fmtValue(v, "") },
      },
      dataZoom: [
        { type: "inside", filterMode: "none" },
        { type: "slider", filterMode: "none", height: 22, bottom: 10 },
      ],
      series,
    };
    return { option, hasBand };
    // zone is not read here but by the axis and tooltip formatters: a switch redraws the chart
  }, [mean, p95, forecast, unit, title, anomalies, meanLabel, thresholds, zone]);

  const { option, hasBand } = built;
  const onRendered = useCallback(() => setBandDrawn(hasBand), [hasBand]);

  return (
    <figure className="chart-figure">
      <EChart option={option} className="usage-chart" testId="usage-chart" ariaLabel={title} onRendered={onRendered} />
      <figcaption className="chart-legend">
        <span className="item">
          <span className="swatch line" style={{ borderColor: COLORS.mean }} aria-hidden="true" /> {meanLabel}
        </span>
        {p95 && (
          <span className="item">
            <span className="swatch line" style={{ borderColor: COLORS.p95 }} aria-hidden="true" /> usage p95
          </span>
        )}
        {forecast && (
          <span className="item">
            <span className="swatch line dashed" style={{ borderColor: COLORS.forecast }} aria-hidden="true" /> forecast mean
          </span>
        )}
        {bandDrawn && forecast && hasBand && (
          <span className="band-legend" data-testid="forecast-band">
            <span className="item">
              <span className="swatch" style={{ background: COLORS.band80 }} aria-hidden="true" /> 80% interval
            </span>
            <span className="item">
              <span className="swatch" style={{ background: COLORS.band95 }} aria-hidden="true" /> 95% interval
            </span>
          </span>
        )}
        {thresholds.map((th) => (
          <span className="item" key={th.label} data-testid="threshold-legend">
            <span className="swatch line dashed" style={{ borderColor: THRESHOLD }} aria-hidden="true" /> {th.label} {fmtValue(th.value, unit)}
          </span>
        ))}
        {anomalies.length > 0 && (
          <span className="item" data-testid="anomaly-legend">
            <span className="swatch" style={{ background: ANOMALY }} aria-hidden="true" /> {anomalies.length} anomal{anomalies.length === 1 ? "y" : "ies"}
          </span>
        )}
        <span className="item muted" data-testid="chart-zone">
          times in {zoneLabel(zone)}
        </span>
        {forecast && (
          <span className="item muted">
            model <code>{forecast.model}</code>, trained on data to {forecast.as_of}
          </span>
        )}
      </figcaption>
    </figure>
  );
}
