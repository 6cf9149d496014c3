import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { allows, NAV } from "../App";
import { ApiError, api } from "../api/client";
import { asChartData, awaitJob } from "../views/Upload";
import { recommendation } from "../test/fixtures";
import { renderWithQuery } from "../test/render";
import { RecommendationList } from "./RecommendationList";
import { ErrorNotice, Forbidden, NotAvailable } from "./StateViews";

describe("state views", () => {
  it("shows the API's own message and status on errors", () => {
    render(<ErrorNotice error={new ApiError(422, "pass step=300 or more")} what="usage" />);
    expect(screen.getByRole("alert").textContent).toContain("Could not load usage (HTTP 422): pass step=300 or more");
  });

  it("says plainly that a capability has not landed", () => {
    render(<NotAvailable what="Runway" route="GET /api/runway" issue="the recommendations issue adds it" />);
    expect(screen.getByTestId("not-available").textContent).toMatch(/Runway is not available yet.*GET \/api\/runway/);
  });

  it("tells a viewer which role an admin page needs", () => {
    render(<Forbidden need="admin" role="viewer" />);
    expect(screen.getByTestId("forbidden").textContent).toContain("needs the admin role");
  });
});

describe("roles", () => {
  it("shows the admin view only to admins", () => {
    const visible = (role: "viewer" | "editor" | "admin") => NAV.filter((n) => allows(role, n.need)).map((n) => n.view);
    expect(visible("viewer")).not.toContain("admin");
    expect(visible("editor")).not.toContain("admin");
    expect(visible("admin")).toContain("admin");
  });
});

describe("recommendations", () => {
  it("shows the evidence and no action to a viewer", () => {
    renderWithQuery(<RecommendationList items={[recommendation()]} canEdit={false} />);
    expect(screen.getByText("CPU p95 1.5% over 10 days")).toBeTruthy();
    expect(screen.queryByTestId("rec-accept")).toBeNull();
    expect(screen.queryByTestId("rec-dismiss")).toBeNull();
  });

  it("asks an editor for a reason before dismissing", () => {
    renderWithQuery(<RecommendationList items={[recommendation()]} canEdit />);
    fireEvent.click(screen.getByTestId("rec-dismiss"));
    const confirm = screen.getByTestId("dismiss-confirm") as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    fireEvent.change(screen.getByTestId("dismiss-reason"), { target: { value: "batch host, idle by design" } });
    expect(confirm.disabled).toBe(false);
  });

  it("offers no action on a recommendation that is no longer open", () => {
    renderWithQuery(<RecommendationList items={[recommendation({ status: "dismissed", dismissed_reason: "by design" })]} canEdit />);
    expect(screen.queryByTestId("rec-accept")).toBeNull();
    expect(screen.getByTestId("recommendation").textContent).toContain("dismissed: by design");
  });
});

describe("upload", () => {
  it("turns an adhoc answer into the chart's history and forecast", () => {
    const { mean, forecast } = asChartData({
      model: "seasonal_naive",
      horizon_hours: 1,
      history: [{ t: "2026-10-01T00:00:00Z", v: 1 }, { t: "2026-10-01T01:00:00Z", v: 2 }],
      points: [{ t: "2026-10-01T02:00:00Z", mean: 2, lo80: 1, hi80: 3, lo95: 0, hi95: 4 }],
      backtest: {},
      regularized: {},
      stored_series_id: null,
    });
    expect(mean.points).toHaveLength(2);
    expect(mean.end).toBe("2026-10-01T01:00:00Z");
    expect(forecast.points[0]?.hi95).toBe(4);
  });

  afterEach(() => vi.restoreAllMocks());
  const job = { id: "a".repeat(32), url: "/api/forecasts/adhoc/jobs/x", error: "", created_at: "2026-10-01T00:00:00Z" };
  const answer = { model: "m", horizon_hours: 1, history: [], points: [], backtest: {}, regularized: {}, stored_series_id: null };

  it("polls the queued job until a worker has answered it", async () => {
    const replies = [{ ...job, status: "running" }, { ...job, status: "done", result: answer }];
    const asked: unknown[] = [];
    vi.spyOn(api, "GET").mockImplementation((async (path: string, init: unknown) => {
      asked.push([path, init]);
      return { data: replies.shift(), response: new Response(null, { status: 200 }) };
    }) as never);
    const result = await awaitJob({ ...job, status: "queued" }, 1);
    expect(result.model).toBe("m");
    expect(asked).toHaveLength(2);
    expect(asked[0]).toEqual(["/api/forecasts/adhoc/jobs/{job_id}", { params: { path: { job_id: job.id } } }]);
  });

  it("says why a job failed", async () => {
    await expect(awaitJob({ ...job, status: "failed", error: "stopped after 300 s" }, 1)).rejects.toThrow("stopped after 300 s");
  });
});
