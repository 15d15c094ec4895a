// Open every page of the built book in headless Debian Chromium at 1280 px, served
// from loopback, and check what a reader would see: no console errors, no request
// leaving loopback, no header button that does nothing (at 1280 and at a phone's 390 px),
// math typeset by MathJax without errors (no `mjx-merror`), nothing in the main column
// cut off and every matplotlib figure legible at the size it is displayed (see
// layout.mjs; both at 1280 and at 390 px), saved widget state rendered as widgets.
// Saves a full-page screenshot of each page and a JSON report.
//
//   node tests/browser/check_book.mjs jupyter_book/_build/html jupyter_book/_build/screens
//
// Exit status 1 if any page fails a check.
import { readdir, mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { launchChromium, serveStatic } from "./lib.mjs";
import { clippedElements, figureProblems, mathErrors, COLUMN_MIN_PX } from "./layout.mjs";
import { deadHeaderButtons } from "./header.mjs";

const [root, screens] = process.argv.slice(2).map((p) => resolve(p));
if (!root || !screens) {
  console.error("usage: node check_book.mjs HTML_DIR SCREENS_DIR");
  process.exit(2);
}
// Pages that are generated chrome rather than content.
const SKIP = new Set(["search.html", "genindex.html"]);

async function pages(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith("_")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await pages(path)));
    else if (entry.name.endsWith(".html") && !SKIP.has(entry.name)) found.push(path);
  }
  return found.sort();
}

const { origin, close } = await serveStatic(root);

const browser = await launchChromium();
await mkdir(screens, { recursive: true });
const report = [];
let failed = 0;
const totals = { mathErrors: 0, clipped: 0, illegibleFigures: 0, figures: 0, deadButtons: 0 };
const PHONE_PX = 390;
const HEADER_WIDTHS = [1280, PHONE_PX];      // a laptop and a phone

// What a reader on a phone misses: content cut off and figure text under 9 px at 390 px.
async function phoneProblems(browser, url) {
  const page = await browser.newPage({ viewport: { width: PHONE_PX, height: 844 } });
  await page.goto(url, { waitUntil: "networkidle" });
  if (await page.locator(".math").count()) {
    await page.waitForSelector("mjx-container", { timeout: 20000 }).catch(() => {});
  }
  await page.evaluate(() => window.MathJax?.startup?.promise);
  const { clipped } = await page.evaluate(clippedElements);
  const figures = await page.evaluate(figureProblems, false);
  await page.close();
  return { clipped, figures };
}
for (const file of await pages(root)) {
  const name = relative(root, file);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  const notFound = [];
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("response", (r) => { if (r.status() >= 400) notFound.push(`${r.status()} ${r.url()}`); });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    problems.push(`outside request: ${url}`);
    return route.abort();
  });
  await page.goto(`${origin}/${name.split(sep).join("/")}`, { waitUntil: "networkidle" });
  const has = await page.evaluate(() => ({
    math: document.querySelectorAll(".math, div.math, span.math").length,
    widgetState: document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]').length,
  }));
  let math = 0;
  let widgets = 0;
  if (has.math) {
    await page.waitForSelector("mjx-container", { timeout: 20000 }).catch(() => {});
    math = await page.locator("mjx-container").count();
    if (!math) problems.push(`math not rendered: ${has.math} math elements, no MathJax output`);
  }
  if (has.widgetState) {
    await page.waitForSelector(".jupyter-widgets", { timeout: 20000 }).catch(() => {});
    widgets = await page.locator(".jupyter-widgets").count();
    if (!widgets) problems.push("saved widget state present but no widget rendered");
  }
  if (widgets) {      // a saved BlockPicker must say that its buttons need a kernel
    const notes = await page.evaluate(() => Array.from(
      document.querySelectorAll(".ssn-blockpicker"), (picker) => {
        const note = picker.querySelector(".ssn-needs-kernel");
        return note ? note.getBoundingClientRect().height > 0 : false;
      }));
    if (notes.some((shown) => !shown)) {
      problems.push(`a saved BlockPicker without its visible "needs a kernel" note (${notes})`);
    }
  }
  const merrors = await page.evaluate(mathErrors);
  problems.push(...merrors.map((m) => `math error: ${m}`));
  const layout = await page.evaluate(clippedElements);
  if (layout.column < COLUMN_MIN_PX) {
    problems.push(`main column ${layout.column} px wide at 1280 px, narrower than the ` +
                  `${COLUMN_MIN_PX} px the figures are sized for (ssnlib.plotting.COLUMN_PX)`);
  }
  problems.push(...layout.clipped.map((c) => `clipped: ${c}`));
  const figures = await page.evaluate(figureProblems);
  problems.push(...figures.problems.map((f) => `illegible figure: ${f}`));
  problems.push(...notFound.map((s) => `missing resource: ${s}`));
  totals.mathErrors += merrors.length;
  totals.clipped += layout.clipped.length;
  totals.illegibleFigures += figures.problems.length;
  totals.figures += figures.count;
  for (const width of HEADER_WIDTHS) {
    const probe = await browser.newPage({ viewport: { width, height: 844 } });
    const dead = await deadHeaderButtons(probe, `${origin}/${name.split(sep).join("/")}`);
    problems.push(...dead.map((title) => `dead header button at ${width} px: ${title}`));
    totals.deadButtons += dead.length;
    await probe.close();
  }
  const phone = await phoneProblems(browser, `${origin}/${name.split(sep).join("/")}`);
  problems.push(...phone.clipped.map((c) => `clipped at ${PHONE_PX} px: ${c}`));
  problems.push(...phone.figures.problems.map((f) => `illegible figure at ${PHONE_PX} px: ${f}`));
  totals.clipped += phone.clipped.length;
  totals.illegibleFigures += phone.figures.problems.length;
  const shot = join(screens, name.replace(/[\\/]/g, "__").replace(/\.html$/, ".png"));
  await page.screenshot({ path: shot, fullPage: true });
  report.push({ page: name, screenshot: relative(screens, shot), math, widgets,
                mathErrors: merrors.length, clipped: layout.clipped.length, column: layout.column,
                figures: figures.count, illegibleFigures: figures.problems.length,
                smallestFigureText: figures.smallest, problems });
  failed += problems.length > 0;
  console.log(`${problems.length ? "FAIL" : "ok  "} ${name}  math=${math} widgets=${widgets} ` +
              `figures=${figures.count} math-errors=${merrors.length} ` +
              `clipped=${layout.clipped.length} illegible=${figures.problems.length}`);
  for (const p of problems) console.log(`       ${p}`);
  await page.close();
}
await browser.close();
close();
await writeFile(join(screens, "report.json"), JSON.stringify(report, null, 2));
console.log(`${report.length - failed} passed, ${failed} failed; ${totals.mathErrors} math errors, ` +
            `${totals.clipped} clipped elements, ${totals.illegibleFigures} illegible figures ` +
            `(of ${totals.figures}), ${totals.deadButtons} dead header buttons`);
process.exit(failed ? 1 : 0);
