#!/usr/bin/env node
// The playground in a real browser: starts `gptbook serve` on a free loopback port, opens the page
// in Debian's Chromium (headless, driven by playwright-core), and does what a teacher does in class:
// types a prompt, generates (tokens stream in), moves the temperature slider (the distribution
// changes), steps one token, opens a layer's attention heatmap and reads a weight, and saves a
// screenshot of the whole page.
//
//   node tools/browser/playground_check.mjs --gptbook build/release/gptbook --run runs/NAME \
//        [--run runs/OTHER] --screenshot build/release/playground.png [--browser /usr/bin/chromium]
//
// With a second --run, it also picks that run on the page and checks that the panels follow.
//
// Exit code 0 when every check passes; 1 with one line per failed check; 77 (CTest's "skipped")
// when Chromium or playwright-core is not installed, with what to install.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const SKIP = 77;
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
const runs = process.argv.slice(2).filter((a, i, all) => all[i - 1] === "--run");
const browserPath = args.browser || "/usr/bin/chromium";
for (const required of ["gptbook", "run", "screenshot"]) { // (--run may be repeated)
  if (!args[required]) {
    console.error(`playground_check: --${required} is missing; see the usage at the top of this file`);
    process.exit(1);
  }
}
if (!existsSync(browserPath)) {
  console.log(`skipped: no browser at ${browserPath}; install Debian's chromium (scripts/install-deps.sh)`);
  process.exit(SKIP);
}
let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  const here = dirname(fileURLToPath(import.meta.url));
  console.log(`skipped: playwright-core is not installed in ${here}/node_modules; run scripts/install-browser-tests.sh`);
  process.exit(SKIP);
}

const failures = [];
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
}

// The server, on a port of its own choosing; its first line says where.
function startServer() {
  const server = spawn(args.gptbook, ["serve", ...runs.flatMap((r) => ["--run", r]), "--port", "0"],
    { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve({ server, url: m[1] });
    });
    server.stderr.on("data", (chunk) => process.stderr.write(chunk));
    server.on("exit", (code) => reject(new Error(`gptbook serve exited with code ${code} before serving: ${out}`)));
  });
}

const { server, url } = await startServer();
let browser = null;
try {
  // Chromium as root in a container (no sandbox; /dev/shm may be tiny there), with nothing that
  // reaches out of the machine (playwright gives it a fresh profile).
  browser = await chromium.launch({
    executablePath: browserPath, headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } }); // the book's widest figure
  const pageErrors = [];
  const foreign = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("data:")) foreign.push(r.url()); });
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll("#run option").length > 0);
  const listed = await page.$$eval("#run option", (options) => options.map((o) => o.value));
  check(listed.length === runs.length && /context \d+/.test(await page.textContent("#run-info")),
    `the page loads from ${url} and lists the runs (${listed.join(", ")}), the first with its shape`);

  // A prompt, then a streamed generation.
  await page.fill("#prompt", "ROMEO:\nWhat light");
  const asked = 300;
  await page.$eval("#max_new_tokens", (e, n) => { e.value = n; e.dispatchEvent(new Event("input")); }, asked);
  // Watched at every change of the output: how many tokens were on the page while more were to come.
  await page.evaluate((n) => {
    window.partialCounts = [];
    new MutationObserver(() => {
      const shown = document.querySelectorAll("#output span.tok").length;
      if (shown > 0 && shown < n) window.partialCounts.push(shown);
    }).observe(document.querySelector("#output"), { childList: true });
  }, asked);
  await page.click("#generate");
  await page.waitForFunction(() => /tokens in/.test(document.querySelector("#status").textContent), null, { timeout: 60000 });
  const partial = await page.evaluate(() => window.partialCounts);
  // (That the server sends each token as it is drawn is tested on the wire by tests/serve.)
  check(partial.length >= 2, `the page shows tokens as they arrive: ${partial.length} partial texts ` +
    `(${partial.slice(0, 3).join(", ")}, ... tokens) before the last of ${asked}`);
  const generated = await page.$$eval("#output span.tok", (spans) => spans.length);
  check(generated === asked, `the generation ends with ${asked} tokens, each coloured by its probability (${generated})`);
  await page.hover("#output span.tok:nth-of-type(3)");
  const tooltip = await page.$eval("#tooltip", (e) => (e.hidden ? "" : e.textContent));
  check(/top 10/.test(tooltip), "hovering a token shows its 10 most likely alternatives");
  await page.mouse.move(0, 0);

  // The distribution changes as the temperature slider moves: each answer is compared for the
  // same text, the prompt and the generated tokens (the chart says which text and temperature).
  const text = await page.evaluate(() => document.querySelector("#prompt").value +
    [...document.querySelectorAll("#output span.tok")].map((s) => s.textContent).join(""));
  const shown = (temperature) => page.waitForFunction(([t, tau]) => {
    const d = document.querySelector("#distribution").dataset;
    return d.text === t && d.temperature === tau;
  }, [text, temperature]);
  const top = () => page.$eval("#distribution .bar-row", (row) => ({ p: Number(row.dataset.p), pModel: Number(row.dataset.pModel) }));
  await shown("1");
  const before = await top();
  await page.$eval("#temperature", (e) => { e.value = 0.3; e.dispatchEvent(new Event("input")); });
  await shown("0.3");
  const after = await top();
  check(after.p > before.p && after.pModel === before.pModel,
    `temperature 0.3 sharpens the distribution: the top token's sampling probability ${before.p} -> ${after.p}, the model's unchanged`);

  // Step mode: one token appended, the one the chart drew (bold).
  const drawn = await page.$eval("#distribution .bar-row.drawn", (row) => Number(row.dataset.id));
  await page.click("#step");
  await page.waitForFunction(() => /^stepped/.test(document.querySelector("#status").textContent));
  const stepped = await page.$$eval("#output span.tok", (spans) => spans.length);
  check(stepped === generated + 1, `Step appends one token (${generated} -> ${stepped})`);
  const last = await page.$eval("#output span.tok:last-of-type", (e) => Number(e.dataset.id));
  check(last === drawn, `the stepped token is the one the chart showed drawn (id ${drawn}): ${await page.textContent("#status")}`);

  // The tokens panel shows the text's token boundaries.
  await page.waitForFunction(() => Number(document.querySelector("#tokens").dataset.count) > 0);
  const tokens = await page.$eval("#tokens", (e) => [e.children.length, Number(e.dataset.count)]);
  check(tokens[0] === tokens[1] && tokens[0] > 10, `the tokens panel shows the text's ${tokens[1]} tokens`);

  // A heatmap: the last layer's head 1, and a weight read by hovering a cell.
  const layers = await page.$$eval("#layer option", (o) => o.length);
  await page.selectOption("#layer", String(layers - 1));
  await page.selectOption("#head", "1");
  await page.waitForFunction((l) => document.querySelector("#heatmap").dataset.drawn.startsWith(`layer ${l}, head 1`), layers - 1);
  const heatmap = page.locator("#heatmap");
  await heatmap.scrollIntoViewIfNeeded();
  const box = await heatmap.boundingBox();
  await heatmap.hover({ position: { x: box.width * 0.6, y: box.height * 0.9 } }); // below the diagonal
  const readout = await page.$eval("#heat-readout", (e) => e.textContent);
  check(/looks at key \d+ .*: [01]\.\d{4}$/.test(readout), `hovering the heatmap reads a weight: ${readout}`);

  // The screenshot (chapter 07's figure 7.3), before another run clears the text.
  mkdirSync(dirname(args.screenshot), { recursive: true });
  await page.screenshot({ path: args.screenshot, fullPage: true });
  console.log(`screenshot: ${args.screenshot}`);

  // Another run picked on the page: its shape, and the tokens panel redrawn with its tokenizer.
  if (listed.length > 1) {
    const before = await page.textContent("#run-info");
    const count = await page.$eval("#tokens", (e) => e.dataset.count);
    await page.selectOption("#run", listed[1]);
    await page.waitForFunction((c) => document.querySelector("#tokens").dataset.count !== c, count);
    const info = await page.textContent("#run-info");
    const output = await page.$$eval("#output span.tok", (spans) => spans.length);
    check(info !== before && output === 0, `picking ${listed[1]} shows its shape (${info}) and starts its text afresh`);
    await page.waitForFunction(() => document.querySelectorAll("#tokens span.tok").length === Number(document.querySelector("#tokens").dataset.count));
    const n = Number(await page.$eval("#tokens", (e) => e.dataset.count));
    const chars = [...await page.inputValue("#prompt")].length;
    check(/^bpe/.test(info) ? n < chars : n === chars,
      `... and the tokens panel cuts the prompt with its tokenizer: ${n} tokens for ${chars} characters`);
    await page.selectOption("#run", listed[0]);
  }

  check(pageErrors.length === 0, `no script errors on the page ${pageErrors.join("; ")}`);
  check(foreign.length === 0, `nothing fetched from anywhere but the server ${foreign.join(" ")}`);
} finally {
  if (browser) await browser.close();
  server.kill("SIGINT");
}
if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("every check passed");
