import { describe, expect, it } from "vitest";
import { describe as words, fmtCostChange, humanKey } from "./components/RecommendationList";
import { confidenceWords } from "./components/ForecastQuality";
import { ruleThresholds } from "./components/thresholds";
import { inDomain } from "./components/UsageChart";
import { fmtAxisTime, fmtDate, fmtDateTime, timeAxisName } from "./format";
import { setZone } from "./timeZone";
import { lastDay, quarterName } from "./views/Executive";

describe("units, zones and periods", () => {
  it("keeps a percentage of capacity inside 0-100% and leaves money alone", () => {
    expect(inDomain(250, "percent")).toBe(100);
    expect(inDomain(-3, "percent")).toBe(0);
    expect(inDomain(-800, "USD")).toBe(-800);
  });

  it("names the time zone on axes and tooltips, UTC by default", () => {
    setZone("UTC");
    const t = Date.parse("2026-12-05T14:30:00Z");
    expect(fmtDateTime(t)).toMatch(/14:30/);
    expect(fmtDateTime(t)).toMatch(/UTC/);
    expect(fmtAxisTime(t)).toBe("14:30");
    expect(timeAxisName()).toBe("time (UTC)");
    // a calendar day is that day in every zone
    expect(fmtDate("2026-12-01")).toMatch(/1/);
    expect(fmtDate("2026-12-01")).not.toMatch(/30/);
  });

  it("draws thresholds from capacity and runway rules on the chart's metric", () => {
    const rules = [
      { name: "cpu-saturation", kind: "capacity", enabled: true, params: { metric: "cpu_utilization", threshold: 85 } },
      { name: "mem", kind: "capacity", enabled: true, params: { metric: "memory_utilization", threshold: 90 } },
      { name: "off", kind: "capacity", enabled: false, params: { metric: "cpu_utilization", threshold: 70 } },
      { name: "spend", kind: "budget", enabled: true, params: { monthly_budget: 100 } },
    ];
    expect(ruleThresholds(rules, "cpu_utilization")).toEqual([{ value: 85, label: 'alert "cpu-saturation"' }]);
  });

  it("names calendar quarters and their last day", () => {
    expect(quarterName("2027-01-01")).toBe("Q1 2027");
    expect(quarterName("2026-10-01")).toBe("Q4 2026");
    expect(lastDay("2027-04-01")).toBe("2027-03-31");
  });

  it("gives evidence in words with units, and money with its sign", () => {
    expect(humanKey("cpu_p95")).toBe("CPU p95");
    expect(words({ cpu_p95: 12.5, mem_max: 40 }, "percent")).toBe("CPU p95 12.5%, memory max 40%");
    expect(fmtCostChange(120)).toMatch(/^\+\$120\/month$/);
    expect(fmtCostChange(-45)).toMatch(/^−\$45\/month$/);
  });

  it("says the forecast's confidence in words beside its MASE", () => {
    const words = confidenceWords(0.8, 2.17, "2026-11-06");
    expect(words).toMatch(/^80% of actual values fell inside the 80% band since Nov 6, 2026 \(about as promised\)/);
    expect(words).toMatch(/no better than repeating the last cycle/);
    expect(confidenceWords(0.4, 0.6, "2026-11-06")).toMatch(/too narrow.*beats/);
  });
});
