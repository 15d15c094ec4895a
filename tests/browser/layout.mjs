// What check_book.mjs looks for on a page, as functions run inside the page
// (page.evaluate): each must be self-contained.

// The main column must be at least this wide at 1280 px: ssnlib.plotting sizes
// the figures for it (COLUMN_PX there).
export const COLUMN_MIN_PX = 752;
// ... and a cell's output this wide (OUTPUT_PX there): the build-time check of the
// stored figures (tests/test_book.py) assumes a figure is shown at least this wide.
export const OUTPUT_MIN_PX = 688;

// MathJax's typesetting errors (red "Unknown environment ..." boxes): the
// message of every `mjx-merror` on the page.
export async function mathErrors() {
  await window.MathJax?.startup?.promise;
  return [...document.querySelectorAll("mjx-merror")].map(
    (e) => e.getAttribute("data-mjx-error") || e.textContent.trim().slice(0, 80));
}

// Content in the main column (article.bd-article) that a reader cannot see whole:
// a box or a run of text that sticks out of the nearest ancestor that clips it
// (overflow hidden, clip, auto or scroll) or, with none, out of the main column.
// Two exceptions: a `pre` block (code, printed output) that scrolls sideways counts
// as visible, since readers expect to scroll a wide table, and so does a figure's
// output that scrolls (`.ssn-figure-scroll`: on a phone a figure keeps the width at
// which its text is legible, see jupyter_book/_js/figure-width.js); the block itself
// is checked like any other box. Anything else that would need scrolling (an
// equation in MathJax's scrollable container, a table) counts as cut off: nobody
// scrolls an equation to find its end, and headless Chromium shows no scrollbar.
// Skips what is not drawn: display none, zero-size boxes, visibility hidden, and
// MathJax's assistive MathML (for screen readers, clipped to 1 px on purpose).
// Returns { column: width in px, clipped: [descriptions] }, one per clipping
// ancestor or outermost box that sticks out.
export function clippedElements() {
  const column = document.querySelector("article.bd-article") || document.querySelector("main");
  const col = column.getBoundingClientRect();
  const TOLERANCE = 2; // px: glyph overhangs and sub-pixel rounding
  const clipped = new Map();
  const style = (el) => getComputedStyle(el);
  const scrolls = (s) => /(auto|scroll)/.test(s.overflowX);
  const clips = (s) => /(hidden|clip)/.test(s.overflowX);
  const describe = (el) => {
    const cls = typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\s+/).slice(0, 2).join(".") : "";
    const text = (el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 60);
    return `<${el.tagName.toLowerCase()}${cls}> "${text}"`;
  };
  // The nearest box from `start` up (inside the column) that clips or scrolls, or null.
  const container = (start) => {
    for (let p = start; p && p !== column; p = p.parentElement) {
      const s = style(p);
      if (scrolls(s) || clips(s)) {
        const pans = p.tagName === "PRE" || p.classList.contains("ssn-figure-scroll");
        return { el: p, scroll: scrolls(s) && pans };
      }
    }
    return null;
  };
  // `rects` of `owner` (an element, or the element holding a run of text) against
  // the nearest clipping box from `start` up.
  const check = (start, rects, owner) => {
    const box = container(start);
    if (box && box.scroll) return;
    const bound = box ? box.el.getBoundingClientRect() : col;
    for (const r of rects) {
      if (!r.width || !r.height) continue;
      if (r.right > bound.right + TOLERANCE || r.left < bound.left - TOLERANCE) {
        const key = box ? box.el : owner;
        if (!clipped.has(key)) {
          clipped.set(key, box
            ? `${describe(box.el)} cuts off its content (${Math.round(r.right - bound.right)} px)`
            : `${describe(owner)} extends ${Math.round(r.right - col.right)} px beyond the ` +
              `main column`);
        }
        return;
      }
    }
  };
  const walker = document.createTreeWalker(column, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      if (node.nodeType === Node.TEXT_NODE) {
        return node.textContent.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
      }
      const s = style(node);
      if (node.tagName === "MJX-ASSISTIVE-MML" || s.display === "none" ||
          node.closest("[hidden], .visually-hidden, .sr-only")) return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.TEXT_NODE) {
      const parent = node.parentElement;
      if (style(parent).visibility === "hidden") continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      check(parent, range.getClientRects(), parent); // text: its own element may clip it
    } else {
      if (style(node).visibility === "hidden") continue;
      check(node.parentElement, [node.getBoundingClientRect()], node);
    }
  }
  // Report a box once, not again for each of its descendants.
  const owners = [...clipped.keys()];
  const outer = owners.filter((el) => !owners.some((o) => o !== el && o.contains(el)));
  return { column: Math.round(col.width), clipped: outer.map((el) => clipped.get(el)) };
}

// Every matplotlib PNG in the main column, read back from the server: its text
// size stamp (written by ssnlib.plotting.show, the smallest text in px at natural
// size) scaled to the width it is displayed at must reach MIN px. A matplotlib
// figure without a stamp cannot be vouched for and fails too. Other images
// (logos, screenshots) are not figures with text and are skipped. With
// `wide` (the 1280 px window) a figure's output must also be at least
// OUTPUT_MIN_PX wide; on a phone it is narrower by nature.
// Returns { count, smallest, problems }.
export async function figureProblems(wide = true) {
  const MIN = 9;
  const OUTPUT_MIN = wide ? 688 : 0; // OUTPUT_MIN_PX above (this function runs in the page)
  const KEY = "ssnlib:min-text-px";
  const column = document.querySelector("article.bd-article") || document.querySelector("main");
  const textChunks = (bytes) => {
    const out = {};
    const view = new DataView(bytes.buffer);
    const latin1 = (a) => String.fromCharCode(...a);
    let pos = 8;
    while (pos + 8 <= bytes.length) {
      const length = view.getUint32(pos);
      const kind = latin1(bytes.subarray(pos + 4, pos + 8));
      const body = bytes.subarray(pos + 8, pos + 8 + length);
      if (kind === "tEXt") {
        const zero = body.indexOf(0);
        out[latin1(body.subarray(0, zero))] = latin1(body.subarray(zero + 1));
      }
      if (kind === "IEND") break;
      pos += 12 + length;
    }
    return out;
  };
  const problems = [];
  let count = 0;
  let smallest = null;
  for (const img of column.querySelectorAll("img")) {
    if (!img.src) continue;
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    if (bytes[0] !== 0x89 || bytes[1] !== 0x50 || bytes[2] !== 0x4e || bytes[3] !== 0x47) continue;
    const text = textChunks(bytes);
    if (!(text.Software || "").startsWith("Matplotlib") && !(KEY in text)) continue;
    count += 1;
    const name = img.src.startsWith("data:") ? `image ${count}` : img.src.split("/").pop().slice(0, 16);
    if (!(KEY in text)) {
      problems.push(`${name}: a matplotlib figure without a text-size stamp ` +
                    "(show it with ssnlib.plotting.show(fig))");
      continue;
    }
    const room = img.parentElement.clientWidth;
    if (room && room < OUTPUT_MIN) {
      problems.push(`${name}: shown in ${room} px, narrower than the ${OUTPUT_MIN} px the ` +
                    "stored figures are checked for (ssnlib.plotting.OUTPUT_PX)");
    }
    // A folded-away figure (no box) would show at its natural width, capped by its room.
    const fallback = wide ? OUTPUT_MIN : 350; // a phone's output width
    const width = img.clientWidth || Math.max(parseFloat(img.style.minWidth) || 0,
                                              Math.min(img.naturalWidth, room || fallback));
    const stamp = text[KEY] === "inf" ? Infinity : parseFloat(text[KEY]); // "inf": no text
    if (!(stamp >= 0)) {
      problems.push(`${name}: unreadable text-size stamp ${JSON.stringify(text[KEY])}`);
      continue;
    }
    const shown = stamp * width / img.naturalWidth;
    if (Number.isFinite(shown)) smallest = smallest === null ? shown : Math.min(smallest, shown);
    if (shown < MIN) {
      problems.push(`${name}: smallest text ${shown.toFixed(1)} px (${img.naturalWidth} px ` +
                    `wide shown at ${width} px; minimum ${MIN} px)`);
    }
  }
  return { count, smallest: smallest === null ? null : Math.round(smallest * 10) / 10, problems };
}
