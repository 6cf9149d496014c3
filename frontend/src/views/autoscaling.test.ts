import { describe, expect, it } from "vitest";
import type { AutoscalingPlan } from "../api/client";
import { replayOption } from "./Autoscaling";

const plan = {
  replay_series: {
    timestamps: ["2026-12-01T00:00:00Z", "2026-12-01T00:05:00Z"],
    demand: [1.5, null],
    plan: [2, 3],
    reactive: [3, 3],
  },
} as unknown as AutoscalingPlan;

describe("autoscaling chart", () => {
  it("draws demand, the plan and target tracking on one time axis, in instances", () => {
    const option = replayOption(plan);
    const series = option.series as { name: string; data: [number, number | null][] }[];
    expect(series.map((s) => s.name)).toEqual(["Demand (instances needed)", "Headroom plan", "Target tracking"]);
    expect(series[0]?.data).toEqual([[Date.parse("2026-12-01T00:00:00Z"), 1.5], [Date.parse("2026-12-01T00:05:00Z"), null]]);
    expect(series[1]?.data[1]).toEqual([Date.parse("2026-12-01T00:05:00Z"), 3]);
  });

  it("names the dashboard's time zone on its time axis", () => {
    expect((replayOption(plan).xAxis as { name: string }).name).toBe("time (UTC)");
  });
});
