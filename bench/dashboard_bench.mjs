// Loads the resource page over a 90-day range BENCH_RUNS times, each in a fresh browser context (cold cache),
// (its first visit, nothing cached) and prints JSON: per run, when the chart with its forecast bands was drawn and the time to interactive
// (the later of that and the end of the last long main-thread task within a 5 s quiet window), from navigation start.
import { createRequire } from "node:module";

const require = createRequire(new URL("../frontend/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const base = process.env.HEADROOM_URL;
const token = process.env.HEADROOM_TOKEN;
const runs = Number(process.env.BENCH_RUNS || 5);
const QUIET_MS = 5000;

const browser = await chromium.launch({
  executablePath: process.env.HEADROOM_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
const first = await fetch(new URL("/api/resources?size=1", base), { headers: { Authorization: `Bearer ${token}` } });
const href = `/resources/${(await first.json()).items[0].id}?range=90d`;
const results = [];
try {
  for (let i = 0; i < runs; i += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((t) => {
      window.sessionStorage.setItem("headroom.token", t);
      window.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.startTime + e.duration]);
      }).observe({ type: "longtask", buffered: true });
    }, token);
    const page = await context.newPage();
    // Count the points the page receives for the chart (usage mean and p95, forecast).
    let points = 0;
    page.on("response", async (res) => {
      if (!/\/api\/(metrics|forecasts)\?/.test(res.url()) || !res.ok()) return;
      const body = await res.json().catch(() => null);
      points += body?.points?.length ?? 0;
    });
    await page.goto(new URL(href, base).href);
    const chartMs = await page.waitForFunction(
      () => {
        const band = document.querySelector('[data-testid="forecast-band"]');
        const canvas = document.querySelector('[data-testid="usage-chart"] canvas');
        return band && canvas && canvas.width > 0 ? performance.now() : null;
      },
      null,
      { polling: "raf", timeout: 60_000 },
    );
    const chart = await chartMs.jsonValue();
    await page.waitForTimeout(QUIET_MS);
    const tasks = await page.evaluate(() => window.__longTasks);
    const lastTask = tasks.filter(([, end]) => end <= chart + QUIET_MS).reduce((m, [, end]) => Math.max(m, end), 0);
    results.push({ chart_ms: Math.round(chart), tti_ms: Math.round(Math.max(chart, lastTask)), long_tasks: tasks.length, points });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results));
