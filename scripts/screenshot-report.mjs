#!/usr/bin/env node
// A full-page PNG of an HTML report, for looking at it without a desktop:
//   npm run report:screenshot [-- path/to/report.html]
// Writes report.png next to the HTML file (same name, .png). Uses Debian's
// Chromium (bash scripts/ensure-chromium.sh) through playwright-core, with the
// network-quiet flags the browser test uses; the page must load nothing else.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const input = resolve(process.argv[2] ?? "reports/report.html");
const output = input.replace(/\.html?$/i, "") + ".png";

if (!existsSync(input)) {
  console.error(`screenshot-report: no such file: ${input} (write one with --report html=FILE)`);
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.error(`screenshot-report: Chromium is missing at ${CHROMIUM}; install it with: bash scripts/ensure-chromium.sh`);
  process.exit(1);
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(input).href;
  const elsewhere = [];
  page.on("request", (request) => {
    if (request.url() !== url) elsewhere.push(request.url());
  });
  await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ path: output, fullPage: true });
  if (elsewhere.length > 0) console.error(`screenshot-report: warning: the page requested ${elsewhere.join(", ")}`);
  console.log(`screenshot-report: wrote ${output}`);
} finally {
  await browser.close();
}
