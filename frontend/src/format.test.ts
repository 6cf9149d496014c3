import { describe, expect, it } from "vitest";
import { byRunway, runwayDays } from "./components/RunwayPanel";
import { memberWeights } from "./components/ForecastQuality";
import { DASH, fmtAgo, fmtDays, fmtMoney, fmtPercent } from "./format";
import { monthOutlook } from "./views/Executive";
import { dailyForecast, runway, spend } from "./test/fixtures";

describe("formatting and derived figures", () => {
  it("formats missing values as a dash, never as 0", () => {
    expect(fmtPercent(null)).toBe(DASH);
    expect(fmtMoney(undefined)).toBe(DASH);
    expect(fmtDays(Number.NaN)).toBe(DASH);
    expect(fmtAgo(null)).toBe(DASH);
  });

  it("never shows a short runway under a day as 0 days", () => {
    expect(fmtDays(0.26, true)).toBe("0.3 d");
    expect(fmtDays(23.4, true)).toBe("23 d");
    expect(runwayDays(null, 7, true)).toBe("> 7 d");
  });

  it("says how fresh data is", () => {
    const now = Date.parse("2026-11-23T13:00:00Z");
    expect(fmtAgo("2026-11-23T12:55:00Z", now)).toMatch(/5 minutes ago/);
    expect(fmtAgo("2026-11-20T13:00:00Z", now)).toMatch(/3 days ago/);
  });

  it("orders runway shortest first and beyond-the-horizon last", () => {
    const items = [runway({ id: 1 }), runway({ id: 2, p50_days: 30, p90_days: 12 }), runway({ id: 3, p50_days: 9, p90_days: 4 })];
    expect(items.sort(byRunway).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(runwayDays(null, 14)).toBe("> 14 days");
    expect(runwayDays(0, 14)).toBe("already over");
    expect(runwayDays(null, 6.95)).toBe("> 7 days");
    // severity first: a noisy band inside the lead time ranks below a real exhaustion case
    const noisy = runway({ id: 4, p50_days: null, p90_days: 0.5, severity: "uncertain" });
    const real = runway({ id: 5, p50_days: 1.3, p90_days: 0.9, severity: "critical" });
    expect([noisy, real].sort(byRunway).map((r) => r.id)).toEqual([5, 4]);
  });

  it("adds the forecast of the month's remaining days to the month to date", () => {
    const outlook = monthOutlook(spend(), dailyForecast("2026-11-29", 5, 10));
    // 29th and 30th remain; the interval of their sum: daily half-widths add in quadrature, not linearly
    expect(outlook?.mean).toBe(300);
    expect(outlook?.lo80).toBeCloseTo(300 - Math.SQRT2, 6);
    expect(outlook?.hi80).toBeCloseTo(300 + Math.SQRT2, 6);
    expect(monthOutlook(spend(), dailyForecast("2026-11-29", 1, 10))).toBeNull(); // does not reach the month's end
    expect(monthOutlook(spend(), undefined)).toBeNull();
  });

  it("splits ensemble members into those carrying weight, largest first, and those kept out", () => {
    const member = (name: string, weight: number, dropped: string | null = null) => ({ name, weight, backtest_mae: 1, backtest_mase: 0.5, dropped });
    const { weighted, unweighted } = memberWeights({ members: [member("auto_ets", 0.3), member("theta", 0), member("mstl", 0.7), member("prophet", 0, "too short")] });
    expect(weighted.map((m) => m.name)).toEqual(["mstl", "auto_ets"]);
    expect(unweighted.map((m) => m.name)).toEqual(["prophet", "theta"]);
    expect(memberWeights({ members: [] })).toEqual({ weighted: [], unweighted: [] });
  });
});
