// Browser test of the dashboard: sign in, list resources, open one with a forecast, check the chart and band.
//
// Environment: HEADROOM_URL (the served dashboard, e.g. http://127.0.0.1:8000/), HEADROOM_TOKEN (a viewer
// token), HEADROOM_SCREENSHOT (optional PNG path; a "-390" copy is saved for the phone-width view).
// Uses the system Chromium through playwright-core; it never downloads a browser.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

// playwright-core is a devDependency of the frontend, so resolve it from there.
const require = createRequire(new URL("../../frontend/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const CHROMIUM = process.env.HEADROOM_CHROMIUM ?? "/usr/bin/chromium";
const STEP_TIMEOUT = 20_000;
const MAX_ROWS_TRIED = 10;

class CheckFailed extends Error {}
const fail = (msg) => {
  throw new CheckFailed(msg);
};
const log = (msg) => console.log(`[e2e] ${msg}`);

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`[e2e] FAILED: set ${name} (see the top of ${path.basename(new URL(import.meta.url).pathname)})`);
    process.exit(2);
  }
  return value;
}

function withSuffix(file, suffix) {
  const ext = path.extname(file) || ".png";
  return `${file.slice(0, file.length - path.extname(file).length)}${suffix}${ext}`;
}

/** Waits for the first of several selectors to be visible and says which one it was. */
async function firstVisible(page, selectors, what, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const sel of selectors) {
      if (await page.locator(sel).first().isVisible().catch(() => false)) return sel;
    }
    await page.waitForTimeout(150);
  }
  fail(`timed out after ${timeout / 1000}s waiting for ${what} (${selectors.join(" | ")})`);
}

/** Counts drawn (non-transparent) pixels in the chart's canvas, so a blank canvas fails the test. */
async function chartPixels(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="usage-chart"] canvas');
    if (!canvas || canvas.width === 0 || canvas.height === 0) return { width: 0, height: 0, drawn: 0, violet: 0 };
    const ctx = canvas.getContext("2d");
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let drawn = 0;
    let violet = 0; // the forecast line and bands are violet (#7c3aed at various alphas)
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      drawn += 1;
      if (data[i + 2] > data[i + 1] + 30 && data[i] > data[i + 1] + 10) violet += 1;
    }
    return { width: canvas.width, height: canvas.height, drawn, violet };
  });
}

async function assertChart(page, label) {
  const chart = page.locator('[data-testid="usage-chart"]');
  await chart.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
  await page.locator('[data-testid="forecast-band"]').waitFor({ state: "visible", timeout: STEP_TIMEOUT });
  const box = await chart.boundingBox();
  if (!box || box.width < 200 || box.height < 150) fail(`${label}: the usage chart is too small (${JSON.stringify(box)})`);
  const px = await chartPixels(page);
  if (px.width === 0) fail(`${label}: the usage chart has no canvas`);
  if (px.drawn < 2000) fail(`${label}: the chart canvas is nearly blank (${px.drawn} drawn pixels)`);
  if (px.violet < 200) fail(`${label}: no forecast line or band drawn on the canvas (${px.violet} violet pixels)`);
  log(`${label}: chart ${Math.round(box.width)}x${Math.round(box.height)} px, ${px.drawn} drawn pixels, ${px.violet} forecast pixels`);
}

async function openResourceWithForecast(page) {
  const links = page.locator('[data-testid="resource-link"]');
  const count = Math.min(await links.count(), MAX_ROWS_TRIED);
  const outcomes = [];
  for (let i = 0; i < count; i += 1) {
    const name = (await links.nth(i).innerText()).trim();
    await links.nth(i).click();
    const first = await firstVisible(
      page,
      ['[data-testid="metric-picker"]', '[data-testid="series-empty"]', '[data-testid="resource-detail"] [data-testid="error"]'],
      `the detail of ${name}`,
    );
    if (first !== '[data-testid="metric-picker"]') {
      outcomes.push(`${name}: ${await page.locator(first).first().innerText()}`);
      continue;
    }
    const picker = page.locator('[data-testid="metric-picker"]');
    const options = await picker.locator("option").evaluateAll((els) => els.map((e) => e.value));
    for (const value of options) {
      await picker.selectOption(value);
      const outcome = await firstVisible(
        page,
        [
          '[data-testid="forecast-band"]',
          '[data-testid="forecast-empty"]',
          '[data-testid="usage-empty"]',
          '[data-testid="resource-detail"] [data-testid="error"]',
        ],
        `the chart of ${name} / ${value}`,
      );
      if (outcome === '[data-testid="forecast-band"]') {
        log(`opened ${name}, series ${value}: forecast band drawn`);
        return { name, series: value };
      }
      outcomes.push(`${name} / ${value}: ${(await page.locator(outcome).first().innerText()).trim()}`);
    }
  }
  fail(`none of the first ${count} resources shows a forecast band:\n  ${outcomes.join("\n  ")}`);
}

async function main() {
  const url = requireEnv("HEADROOM_URL");
  const token = requireEnv("HEADROOM_TOKEN");
  const screenshot = process.env.HEADROOM_SCREENSHOT || null;
  const userDataDir = mkdtempSync(path.join(tmpdir(), "headroom-e2e-chromium-"));
  const problems = [];
  let context;
  let page;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
    });

    log(`opening ${url}`);
    const response = await page.goto(url, { waitUntil: "domcontentloaded" });
    if (!response || !response.ok()) fail(`GET ${url} answered ${response ? response.status() : "nothing"}`);
    await page.locator('[data-testid="signin-form"]').waitFor({ state: "visible" });

    // A bad token is refused with the API's own message.
    await page.locator('[data-testid="token-input"]').fill("hdr_not_a_real_token");
    await page.locator('[data-testid="signin-submit"]').click();
    const refusal = page.locator('[data-testid="signin-error"]');
    await refusal.waitFor({ state: "visible" });
    const refusalText = (await refusal.innerText()).trim();
    if (!refusalText) fail("a bad token showed an empty error");
    log(`bad token refused: "${refusalText}"`);

    await page.locator('[data-testid="token-input"]').fill(token);
    await page.locator('[data-testid="signin-submit"]').click();
    const listed = await firstVisible(
      page,
      ['[data-testid="resource-row"]', '[data-testid="resources-empty"]', '[data-testid="signin-error"]', '[data-testid="error"]'],
      "the resource list after signing in",
    );
    if (listed !== '[data-testid="resource-row"]') {
      fail(`after signing in the page shows: ${(await page.locator(listed).first().innerText()).trim()}`);
    }
    log(`signed in; ${await page.locator('[data-testid="resource-row"]').count()} resources listed`);

    await openResourceWithForecast(page);
    await assertChart(page, "1280 px");

    const current = page.url();
    if (current.includes(token)) fail("the token appears in the page URL");
    if (!/[?&]resource=\d+/.test(current)) fail(`the selected resource is not in the URL (${current})`);
    const stored = await page.evaluate(() => window.sessionStorage.getItem("headroom.token"));
    if (stored !== token) fail("the token is not kept in sessionStorage");

    if (screenshot) {
      await page.screenshot({ path: screenshot });
      log(`screenshot: ${screenshot}`);
    }

    // Phone width: same page, no sideways scrolling, chart still drawn.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(400);
    await assertChart(page, "390 px");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) fail(`at 390 px the page scrolls sideways by ${overflow} px`);
    if (screenshot) {
      const phone = withSuffix(screenshot, "-390");
      await page.screenshot({ path: phone });
      log(`screenshot: ${phone}`);
    }

    // A shared link (the URL) reopens the same view after signing in again; signing out forgets the token.
    await page.locator('[data-testid="signout"]').click();
    await page.locator('[data-testid="signin-form"]').waitFor({ state: "visible" });
    const after = await page.evaluate(() => window.sessionStorage.getItem("headroom.token"));
    if (after !== null) fail("signing out left the token in sessionStorage");
    log("signed out");

    const serious = problems.filter((p) => !/status of 40[14]/.test(p)); // expected: the bad token, a missing forecast
    if (serious.length) fail(`the page reported errors:\n  ${serious.join("\n  ")}`);
    log("PASSED");
  } catch (err) {
    if (page && screenshot) {
      const failed = withSuffix(screenshot, "-failure");
      await page.screenshot({ path: failed, fullPage: true }).catch(() => {});
      console.error(`[e2e] failure screenshot: ${failed}`);
    }
    if (problems.length) console.error(`[e2e] browser console:\n  ${problems.join("\n  ")}`);
    console.error(`[e2e] FAILED: ${err instanceof CheckFailed ? err.message : err?.stack ?? err}`);
    process.exitCode = 1;
  } finally {
    await context?.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

await main();
