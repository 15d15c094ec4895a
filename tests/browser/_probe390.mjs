import { launchChromium, serveStatic } from "/work/main/tests/browser/lib.mjs";
import { clippedElements, figureProblems } from "/work/main/tests/browser/layout.mjs";
import { readdirSync } from "node:fs";
const root = "/work/main/jupyter_book/_build/html";
const { origin, close } = await serveStatic(root);
const browser = await launchChromium();
const names = ["intro.html", ...readdirSync(root + "/chapters").filter(f => f.endsWith(".html")).map(f => "chapters/" + f)];
for (const name of names) {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${origin}/${name}`, { waitUntil: "networkidle" });
  await page.waitForTimeout(1500);
  const layout = await page.evaluate(clippedElements);
  const figs = await page.evaluate(figureProblems);
  console.log(name, "column", layout.column, "clipped", layout.clipped.length, "figs", figs.count, "smallest", figs.smallest);
  for (const c of layout.clipped) console.log("   ", c);
  await page.close();
}
await browser.close(); close();
