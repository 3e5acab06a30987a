// Measures the dashboard's first paint in Debian's headless chromium (a benchmark, not a test).
//
//   npm install --prefix /tmp/bench-dashboard playwright-core      # no browser download: Debian's chromium
//   cp scripts/bench-dashboard.mjs /tmp/bench-dashboard/ && node /tmp/bench-dashboard/bench-dashboard.mjs http://127.0.0.1:3850/ [runs]
//
// Each run is a fresh browser context (cold cache) and then a reload (warm cache); it prints
// first-contentful-paint, DOMContentLoaded and the time until the view says it is ready
// (`main[data-ready="true"]`), and the bytes transferred.
import { chromium } from "playwright-core";

const url = process.argv[2] ?? "http://127.0.0.1:3850/";
const runs = Number(process.argv[3] ?? 10);
const browser = await chromium.launch({
  executablePath: process.env.SIGNET_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
});

async function once(page, load) {
  const t0 = Date.now();
  await load();
  await page.waitForSelector('main[data-ready="true"]', { timeout: 30000 });
  const ready = Date.now() - t0;
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    const bytes = performance
      .getEntriesByType("resource")
      .reduce((n, r) => n + (r.transferSize || 0), nav.transferSize || 0);
    return { fcp: fcp ? fcp.startTime : NaN, dcl: nav.domContentLoadedEventEnd, bytes };
  });
  return { ...m, ready };
}

const cold = [];
const warm = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  cold.push(await once(page, () => page.goto(url)));
  warm.push(await once(page, () => page.reload()));
  await context.close();
}
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, rows] of [["cold", cold], ["warm", warm]]) {
  console.log(
    `${name}: first paint ${median(rows.map((r) => r.fcp)).toFixed(0)} ms, ` +
      `DOMContentLoaded ${median(rows.map((r) => r.dcl)).toFixed(0)} ms, ` +
      `view ready ${median(rows.map((r) => r.ready)).toFixed(0)} ms, ` +
      `${(median(rows.map((r) => r.bytes)) / 1024).toFixed(1)} KiB transferred (median of ${rows.length})`,
  );
}
