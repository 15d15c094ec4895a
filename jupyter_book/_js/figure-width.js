// Figures legible on a phone. ssnlib.plotting.show writes the smallest text of each figure
// (in px at the PNG's natural width) into the PNG as a tEXt chunk; a figure shrunk to a
// phone's column would show that text at 5-7 px. So each figure keeps at least the width at
// which its smallest text is 9 px (never more than its natural width), and its output scrolls
// sideways when the screen is narrower (book.css, .ssn-figure-scroll). On a laptop the column
// is wide enough and nothing changes. tests/browser/layout.mjs checks the result.
(() => {
  const MIN_TEXT_PX = 9;
  const KEY = "ssnlib:min-text-px";

  // The value of the PNG tEXt chunk KEY, or null.
  function stampOf(bytes) {
    const view = new DataView(bytes.buffer);
    const latin1 = (a) => String.fromCharCode(...a);
    if (latin1(bytes.subarray(1, 4)) !== "PNG") return null;
    for (let pos = 8; pos + 8 <= bytes.length;) {
      const length = view.getUint32(pos);
      const kind = latin1(bytes.subarray(pos + 4, pos + 8));
      if (kind === "IEND") break;
      if (kind === "tEXt") {
        const body = bytes.subarray(pos + 8, pos + 8 + length);
        const zero = body.indexOf(0);
        if (latin1(body.subarray(0, zero)) === KEY) return latin1(body.subarray(zero + 1));
      }
      pos += 12 + length;
    }
    return null;
  }

  async function keepLegible(img) {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    const stamp = parseFloat(stampOf(bytes));
    if (!(stamp > 0) || !Number.isFinite(stamp)) return;     // no stamp, or no text at all
    if (!img.complete) await new Promise((done) => img.addEventListener("load", done));
    const legible = Math.ceil(img.naturalWidth * MIN_TEXT_PX / stamp);
    img.style.minWidth = `${Math.min(legible, img.naturalWidth)}px`;
    img.parentElement.classList.add("ssn-figure-scroll");
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const img of document.querySelectorAll("article.bd-article div.cell_output img")) {
      keepLegible(img).catch(() => {});                       // a figure without a stamp stays
    }
  });
})();
