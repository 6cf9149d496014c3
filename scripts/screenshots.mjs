// Photographs the served dashboard for the README: the SRE overview, the busiest resource, the executive view.
// Environment: HEADROOM_URL, HEADROOM_TOKEN (viewer), HEADROOM_SCREENSHOTS (output folder). Run via screenshots.py.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(new URL("../frontend/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const base = process.env.HEADROOM_URL;
const token = process.env.HEADROOM_TOKEN;
const out = process.env.HEADROOM_SCREENSHOTS;
if (!base || !token || !out) {
  console.error("set HEADROOM_URL, HEADROOM_TOKEN and HEADROOM_SCREENSHOTS (scripts/screenshots.py does)");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.HEADROOM_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--hide-scrollbars"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  page.setDefaultTimeout(30_000);
  await page.goto(base);
  await page.evaluate((t) => window.sessionStorage.setItem("headroom.token", t), token);

  async function shoot(route, ready, name) {
    await page.goto(new URL(route, base).href);
    await page.locator(ready).first().waitFor({ state: "visible" });
    await page.waitForTimeout(800); // let the charts finish their first frame
    const file = path.join(out, name);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`wrote ${file}`);
  }

  await shoot("/?sort=-cpu_p95_7d", '[data-testid="resource-row"]', "overview.png");
  const href = await page.locator('[data-testid="resource-link"]').first().getAttribute("href");
  await shoot(href, '[data-testid="forecast-band"]', "resource.png");
  await shoot("/executive", '[data-testid="kpi-mtd"]', "executive.png");
} finally {
  await browser.close();
}
