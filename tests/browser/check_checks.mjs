// The checks of layout.mjs on a page made to fail them, in headless Chromium: each
// kind of cut-off box, a MathJax error and each kind of illegible figure must be
// found, and what is fine (a scrolling code block, MathJax's hidden assistive
// MathML, a legible figure, a photo) must not. Run by `make test-browser` before
// check_book.mjs, so that a check that silently finds nothing cannot pass the book.
//
//   node tests/browser/check_checks.mjs
import { deflateSync } from "node:zlib";
import { launchChromium } from "./lib.mjs";
import { clippedElements, figureProblems, mathErrors } from "./layout.mjs";
import { deadHeaderButtons } from "./header.mjs";
import { serveStatic } from "./lib.mjs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A 40 x 10 grey PNG with the given tEXt entries (CRCs computed, so browsers decode it).
function png(text) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (kind, body) => {
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.write(kind, 4, "latin1");
    body.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + body.length)), 8 + body.length);
    return out;
  };
  const [w, h] = [40, 10];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const raw = Buffer.alloc(h * (w + 1), 128);
  for (let y = 0; y < h; y++) raw[y * (w + 1)] = 0; // filter byte per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...Object.entries(text).map(([k, v]) => chunk("tEXt", Buffer.from(`${k}\0${v}`, "latin1"))),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
const src = (text) => `data:image/png;base64,${png(text).toString("base64")}`;
const MPL = { Software: "Matplotlib version3.11.2, https://matplotlib.org/" };
const long = "a_long_unbreakable_line_of_code_".repeat(12);

const html = `<!doctype html><html><body style="margin:0">
<article class="bd-article" style="width:760px; margin-left:100px">
  <pre style="overflow-x:auto">${long}</pre>
  <div id="hidden" style="overflow:hidden; width:200px"><span style="white-space:nowrap">${long}</span></div>
  <p><span style="white-space:nowrap">${long}</span></p>
  <div style="overflow-x:auto; width:200px"><span style="white-space:nowrap">equation ${long}</span></div>
  <span style="position:relative"><mjx-assistive-mml style="position:absolute; width:3000px; clip:rect(1px,1px,1px,1px); overflow:hidden; display:block">${long}</mjx-assistive-mml>x</span>
  <mjx-merror data-mjx-error="Unknown environment 'psmallmatrix'">psmallmatrix</mjx-merror>
  <img src="${src({ ...MPL, "ssnlib:min-text-px": "13.89" })}">
  <img src="${src({ ...MPL, "ssnlib:min-text-px": "12.00" })}" style="width:20px">
  <img src="${src(MPL)}">
  <img src="${src({})}">
  <img src="${src({ ...MPL, "ssnlib:min-text-px": "inf" })}">
  <div style="width:300px"><img src="${src({ ...MPL, "ssnlib:min-text-px": "13.89" })}"></div>
</article></body></html>`;

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.setContent(html, { waitUntil: "load" });
const clipped = await page.evaluate(clippedElements);
const merrors = await page.evaluate(mathErrors);
const figures = await page.evaluate(figureProblems);
const phoneFigures = await page.evaluate(figureProblems, false);

// A phone's column squeezing a 40 px figure with 13.89 px text to 20 px (6.9 px text), once
// as it is and once with the book's figure-width.js, which must widen it to a legible 26 px
// inside an output that scrolls (book.css).
const book = (file) => readFile(new URL(`../../jupyter_book/_js/${file}`, import.meta.url), "utf8");
const [bookScript, bookCss] = [await book("figure-width.js"), await book("book.css")];
const squeezed = (script) => `<!doctype html><html><head><style>${bookCss}</style></head>
<body style="margin:0">
<article class="bd-article" style="width:20px"><div class="cell_output">
  <img src="${src({ ...MPL, "ssnlib:min-text-px": "13.89" })}" style="max-width:100%">
</div></article>${script ? `<script>${bookScript}</script>` : ""}</body></html>`;
const phone = {};
for (const script of [false, true]) {
  const probe = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await probe.setContent(squeezed(script), { waitUntil: "load" });
  await probe.waitForTimeout(300);                       // the script reads the PNG first
  phone[script] = { figures: await probe.evaluate(figureProblems, false),
                    clipped: (await probe.evaluate(clippedElements)).clipped };
  await probe.close();
}

// A header with a button that does nothing, one that opens a menu and one that is hidden.
const dir = await mkdtemp(join(tmpdir(), "check-checks-"));
await writeFile(join(dir, "header.html"), `<!doctype html><html><body><header>
  <button title="dead">dead</button>
  <button title="menu" onclick="document.body.classList.toggle('menu-open')">menu</button>
  <button title="hidden" style="display:none">hidden</button></header></body></html>`);
const served = await serveStatic(dir);
const dead = await deadHeaderButtons(page, `${served.origin}/header.html`);
served.close();
await browser.close();

const failures = [];
const expect = (ok, what, got) => { if (!ok) failures.push(`${what}: got ${JSON.stringify(got)}`); };
expect(clipped.column === 760, "the column's width", clipped.column);
expect(clipped.clipped.length === 3, "three cut-off boxes (hidden, beyond, non-pre scroller)",
       clipped.clipped);
expect(clipped.clipped.some((c) => c.includes("cuts off") && c.includes("<div>")),
       "the overflow:hidden box", clipped.clipped);
expect(clipped.clipped.some((c) => c.includes("beyond the main column")),
       "the line past the column", clipped.clipped);
expect(clipped.clipped.some((c) => c.includes('"equation')),
       "the scrolling box that is not a pre", clipped.clipped);
expect(merrors.length === 1 && merrors[0].includes("psmallmatrix"), "the MathJax error", merrors);
expect(figures.count === 5, "five matplotlib figures (the photo skipped)", figures);
expect(figures.problems.length === 3, "three illegible figures", figures.problems);
expect(figures.smallest === 6, "the smallest text measured (no-text figure ignored)", figures);
expect(figures.problems.some((p) => p.includes("shown in 300 px")),
       "a figure with less room than the stored figures are checked for", figures.problems);
expect(figures.problems.some((p) => p.includes("smallest text 6.0 px")),
       "12 px text shown at half size", figures.problems);
expect(figures.problems.some((p) => p.includes("without a text-size stamp")),
       "the unstamped figure", figures.problems);
expect(JSON.stringify(dead) === '["dead"]', "the dead header button, and only it", dead);
expect(phoneFigures.problems.length === 2 && !phoneFigures.problems.some((p) => p.includes("room")),
       "on a phone, no minimum room for a figure", phoneFigures.problems);
expect(phone[false].figures.problems.some((p) => p.includes("smallest text 6.9 px")),
       "a figure squeezed by a phone's column", phone[false].figures.problems);
expect(phone[true].figures.problems.length === 0 && phone[true].clipped.length === 0,
       "figure-width.js: the figure legible, its output scrolling, nothing cut off", phone[true]);
for (const f of failures) console.log(`FAIL ${f}`);
console.log(failures.length ? "the book's checks miss problems" : "ok   the book's checks find " +
            "cut-off boxes, MathJax errors, illegible figures and dead header buttons on a page " +
            "made to fail them, and figure-width.js keeps a figure legible on a phone");
process.exit(failures.length ? 1 : 0);
