// Dead buttons in the page header: every button a reader can see at the top of a page must do
// something when clicked (open a dialog or a menu, switch a mode, toggle a sidebar), i.e. the
// page must change. Each button is clicked on a freshly loaded page while a MutationObserver
// counts changes to the document (and fullscreen, which changes no element, is read too).

const VISIBLE_HEADER_BUTTONS = () => Array.from(document.querySelectorAll(
  "header button, .bd-header-article button")).filter((el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
}).length;

// The titles of the header buttons that change nothing, at the page's current viewport.
export async function deadHeaderButtons(page, url) {
  const dead = [];
  await page.goto(url, { waitUntil: "networkidle" });
  const count = await page.evaluate(VISIBLE_HEADER_BUTTONS);
  for (let i = 0; i < count; i++) {
    await page.goto(url, { waitUntil: "networkidle" });
    const button = page.locator("header button:visible, .bd-header-article button:visible").nth(i);
    const title = await button.evaluate((el) => el.title || el.getAttribute("aria-label") ||
                                        el.innerText.trim() || el.className);
    await page.evaluate(() => {
      window.__changes = 0;
      new MutationObserver((list) => { window.__changes += list.length; })
        .observe(document.documentElement, { attributes: true, childList: true, subtree: true });
    });
    await button.click();
    await page.waitForTimeout(400);
    const changed = await page.evaluate(() => window.__changes > 0 ||
                                        document.fullscreenElement !== null);
    if (!changed) dead.push(title);
  }
  return dead;
}
