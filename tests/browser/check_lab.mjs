// Checks of the BlockPicker widget in headless Debian Chromium, loopback only:
// 1. live: start JupyterLab in a temporary root holding one notebook (a BlockPicker on an
//    untrained `tiny` SSN), run it, click two blocks on the image and Resample, and check that
//    the image changed (its PNG bytes, read in the page) after each click and after Resample;
// 2. static: the widget's saved state (ipywidgets.embed) rendered by the book's vendored
//    html-manager, as on a book page: the picker, its 16 block buttons and its images show.
// No request may leave loopback. The server is killed and the temporary root removed at the end.
//
//   node tests/browser/check_lab.mjs [SCREENSHOT.png]      (from the repository root)
//
// SCREENSHOT.png gets the live notebook, SCREENSHOT-static.png the static page.
//
// Run by `make test-browser`; needs .venv (JUPYTER=path/to/jupyter overrides .venv/bin/jupyter),
// the vendored widget manager (make vendor), tests/browser/node_modules (npm ci) and Chromium
// (CHROMIUM=..., default /usr/bin/chromium).
// Takes about a minute; exit status 1 on any failure.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { launchChromium, serveStatic } from "./lib.mjs";

const JUPYTER = resolve(process.env.JUPYTER ?? ".venv/bin/jupyter");
const shot = process.argv[2] ? resolve(process.argv[2]) : null;
const BOOK = resolve("jupyter_book");
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

const cell = (source) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source });
const notebook = {
  cells: [cell([
    "import torch\n",
    "from ssnlib.models import build_generator\n",
    "from ssnlib.widgets import BlockPicker\n",
    "torch.set_num_threads(1)\n",
    "torch.manual_seed(0)\n",
    "picker = BlockPicker(build_generator('ssn', 'tiny').eval(), seed=0, display=192)\n",
    "picker",
  ])],
  metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
  nbformat: 4, nbformat_minor: 5,
};

async function freePort() {
  const srv = createServer();
  await new Promise((ok) => srv.listen(0, "127.0.0.1", ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}


// The saved state of a BlockPicker after a resampling, in a page laid out like a book page.
const STATIC_PAGE = `
import json, sys, torch
from ipywidgets.embed import embed_data
from ssnlib.models import build_generator
from ssnlib.widgets import BlockPicker
torch.manual_seed(0)
p = BlockPicker(build_generator("ssn", "tiny").eval(), seed=0, display=192)
p.select([1, 6]); p.resample_button.click()
d = embed_data(views=[p])
state, view = json.dumps(d["manager_state"]), json.dumps(d["view_specs"][0])
sys.stdout.write(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="widgets-setup.js"></script><script src="require.js"></script>
<script src="html-manager/embed-amd.js" data-jupyter-widgets-cdn-only="false"></script>
<script type="application/vnd.jupyter.widget-state+json">{state}</script></head>
<body><script type="application/vnd.jupyter.widget-view+json">{view}</script></body></html>""")
`;

async function checkStatic(browser, dir, problems, screenshot) {
  await cp(join(BOOK, "_js", "widgets-setup.js"), join(dir, "widgets-setup.js"));
  await cp(join(BOOK, "_vendor", "require.js"), join(dir, "require.js"));
  await cp(join(BOOK, "_vendor", "html-manager"), join(dir, "html-manager"), { recursive: true });
  const python = join(dirname(JUPYTER), "python");
  await writeFile(join(dir, "index.html"), execFileSync(python, ["-c", STATIC_PAGE]));
  const { origin: here, close: closeFiles } = await serveStatic(dir);
  const page = await browser.newPage();
  page.on("pageerror", (err) => problems.push(`static page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`static console: ${msg.text()}`);
  });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(here) || url.startsWith("data:") || url.startsWith("blob:")) {
      return route.continue();
    }
    problems.push(`static: outside request: ${url}`);
    return route.abort();
  });
  try {
    await page.goto(`${here}/index.html`, { waitUntil: "networkidle" });
    await page.locator(".ssn-blockpicker .ssn-picker img").waitFor({ timeout: 30000 });
    const seen = await page.evaluate(() => ({
      blocks: document.querySelectorAll(".ssn-picker .ssn-block").length,
      images: Array.from(document.querySelectorAll(".ssn-blockpicker img"),
                         (img) => img.complete && img.naturalWidth),
      status: document.querySelector(".ssn-status")?.innerText ?? "",
    }));
    if (seen.blocks !== 16) problems.push(`static: ${seen.blocks} block buttons, expected 16`);
    if (seen.images.length !== 3 || !seen.images.every((w) => w === 192)) {
      problems.push(`static: images not shown (natural widths ${seen.images})`);
    }
    if (!seen.status.includes("2 of 16 blocks selected")) {
      problems.push(`static: status line ${JSON.stringify(seen.status)}`);
    }
    if (screenshot) await page.screenshot({ path: screenshot });
  } finally {
    await page.close();
    closeFiles();
  }
}

const root = await mkdtemp(join(tmpdir(), "ssn-lab-"));
await writeFile(join(root, "lab.ipynb"), JSON.stringify(notebook));
const token = randomBytes(16).toString("hex");
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const state = join(root, ".jupyter");  // settings, workspaces, runtime: nothing from the user
const server = spawn(JUPYTER, [
  "lab", "--no-browser", `--port=${port}`, "--ServerApp.ip=127.0.0.1",
  `--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${root}`,
  "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
  "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
  "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
], {
  detached: true, stdio: ["ignore", "pipe", "pipe"],
  env: {
    ...process.env, PATH: `${dirname(JUPYTER)}:${process.env.PATH}`,
    JUPYTERLAB_SETTINGS_DIR: join(state, "settings"), JUPYTERLAB_WORKSPACES_DIR: join(state, "ws"),
    JUPYTER_RUNTIME_DIR: join(state, "runtime"), JUPYTER_CONFIG_DIR: join(state, "config"),
  },
});
let serverLog = "";
server.stdout.on("data", (d) => { serverLog += d; });
server.stderr.on("data", (d) => { serverLog += d; });

const problems = [];
let browser;
try {
  for (let i = 0; ; i++) {  // wait for the server to answer
    try {
      if ((await fetch(`${origin}/api/status?token=${token}`)).ok) break;
    } catch { /* not up yet */ }
    if (i > 120 || server.exitCode !== null) throw new Error(`JupyterLab did not start:\n${serverLog}`);
    await new Promise((ok) => setTimeout(ok, 500));
  }
  log(`JupyterLab up on ${origin}`);
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("ws://127.0.0.1") || url.startsWith("data:")
        || url.startsWith("blob:")) return route.continue();
    problems.push(`outside request: ${url}`);
    return route.abort();
  });
  await page.goto(`${origin}/lab/tree/lab.ipynb?token=${token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell?.currentWidget?.context?.sessionContext
    ?.session?.kernel, null, { timeout: 60000 });
  await page.waitForSelector(".jp-Notebook .jp-Cell", { timeout: 60000 });
  log("notebook open, kernel started; running it");
  await page.evaluate(() => window.jupyterapp.commands.execute("notebook:run-all-cells"));
  const img = page.locator(".ssn-picker img");
  await img.waitFor({ timeout: 120000 });
  log("BlockPicker rendered");
  if (await page.locator(".ssn-needs-kernel").isVisible()) {
    problems.push("live: the \"needs a kernel\" note shows in a live notebook");
  }
  // The PNG bytes the page shows, hashed in the page (the img src is a blob: URL).
  const digest = () => img.evaluate(async (el) => {
    const bytes = await (await fetch(el.src)).arrayBuffer();
    const hash = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
  });
  // Each step is awaited through the status line, then the image must differ from before.
  const step = async (what, status, old) => {
    await page.locator(".ssn-status", { hasText: status }).waitFor({ timeout: 60000 });
    for (let i = 0; i < 100; i++) {
      const now = await digest();
      if (now !== old) return now;
      await page.waitForTimeout(100);
    }
    problems.push(`${what}: the image did not change`);
    return old;
  };
  const first = await digest();
  const blocks = page.locator(".ssn-picker .ssn-block");
  const n = await blocks.count();
  if (n !== 16) problems.push(`expected 16 block buttons over the image, found ${n}`);
  await blocks.nth(1).click();
  const one = await step("a click on block 1", "1 of 16 blocks selected", first);
  await blocks.nth(6).click();
  const two = await step("a click on block 6", "2 of 16 blocks selected, 0 step", one);
  log("blocks 1 and 6 clicked: each click redrew the selection on the image");
  await page.locator(".ssn-resample").click();
  const after = await step("Resample", "2 of 16 blocks selected, 1 step(s) to undo", two);
  log(`Resample: the image ${after !== two ? "changed" : "did NOT change"}`);
  if (shot) await page.screenshot({ path: shot });
  await mkdir(join(root, "static"));
  await checkStatic(browser, join(root, "static"), problems,
                    shot && shot.replace(/(\.png)?$/, "-static.png"));
  log("static: the saved widget state renders with the vendored html-manager");
} catch (err) {
  problems.push(`error: ${err.message}`);
} finally {
  await browser?.close();
  try { process.kill(-server.pid, "SIGTERM"); } catch { /* already gone */ }
  await new Promise((ok) => (server.exitCode !== null ? ok() : server.once("exit", ok)));
  await rm(root, { recursive: true, force: true });
}
for (const p of problems) console.log(`FAIL ${p}`);
log(problems.length ? "lab check failed" : "lab check passed");
process.exit(problems.length ? 1 : 0);
