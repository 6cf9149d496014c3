// The dashboard's first view (the overview: the fleet table and the cards around it), BENCH_RUNS times, each in a
// fresh browser context (nothing cached). Prints JSON: per run, from navigation start, when the fleet table's first
// row was drawn and when the network went quiet (every card's data in), and the API calls the view made.
import { createRequire } from "node:module";

const require = createRequire(new URL("../frontend/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const base = process.env.HEADROOM_URL;
const token = process.env.HEADROOM_TOKEN;
const runs = Number(process.env.BENCH_RUNS || 3);

const browser = await chromium.launch({
  executablePath: process.env.HEADROOM_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
const results = [];
try {
  for (let i = 0; i < runs; i += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((t) => window.sessionStorage.setItem("headroom.token", t), token);
    const page = await context.newPage();
    let calls = 0;
    page.on("request", (req) => { if (new URL(req.url()).pathname.startsWith("/api/")) calls += 1; });
    await page.goto(new URL("/", base).href, { waitUntil: "commit" });
    const drawn = await page.waitForFunction(
      () => (document.querySelector('[data-testid="fleet"] table tbody tr') ? performance.now() : null),
      null,
      { polling: "raf", timeout: 120_000 },
    );
    const tableMs = await drawn.jsonValue();
    await page.waitForLoadState("networkidle", { timeout: 120_000 });
    const quietMs = await page.evaluate(() => performance.now());
    results.push({ table_ms: Math.round(tableMs), network_idle_ms: Math.round(quietMs - 500), api_calls: calls });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results));
