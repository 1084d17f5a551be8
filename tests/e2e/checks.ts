// Page checks every e2e test can apply: no serious or critical WCAG 2 A/AA violation found by
// axe-core, and a layout that works on a 390 px wide phone (no sideways scrolling, nothing cut
// off). Failures list what to fix: rule, impact, the offending elements and axe's help link.
import assert from "node:assert/strict";
import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";

/** axe-core's tags for WCAG 2.0, 2.1 and 2.2, levels A and AA. */
const WCAG2_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

export const PHONE = { width: 390, height: 844 } as const;

// Runs in the page, shadow roots included. A string, not a function: tsx compiles functions with a `__name` helper that
// exists in Node but not in the browser.
const measureOverflow = `(() => {
  const width = document.documentElement.clientWidth;
  // The parent across a shadow boundary too (the widget renders in an open shadow root).
  const up = (el) => el.parentElement ?? (el.parentNode instanceof ShadowRoot ? el.parentNode.host : null);
  const scrolls = (el) => {
    for (let p = up(el); p && p !== document.body; p = up(p)) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const all = (root) => [...root.querySelectorAll("*")].flatMap((el) => el.shadowRoot ? [el, ...all(el.shadowRoot)] : [el]);
  const name = (el) =>
    el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + [...el.classList].map((c) => "." + c).join("") +
    (el.textContent.trim() ? ' "' + el.textContent.trim().slice(0, 40) + '"' : "");
  const sticking = [];
  for (const el of all(document.body)) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === "hidden") continue;
    const onScreen = box.right > 0 && box.left < width;
    if (onScreen && (box.right > width + 1 || box.left < -1) && !scrolls(el)) {
      sticking.push(name(el) + " spans " + Math.round(box.left) + ".." + Math.round(box.right) + " px");
    }
  }
  return { width, scrollWidth: document.documentElement.scrollWidth, sticking };
})()`;

/** Runs axe-core on the page as it is now and fails on any serious or critical violation. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG2_AA).analyze();
  const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = blocking.map((v) => {
    const targets = v.nodes.slice(0, 5).map((n) => `      ${n.target.join(" ")}: ${n.failureSummary?.split("\n").slice(1).join("; ").trim()}`);
    return `  ${v.id} (${v.impact}): ${v.help} [${v.helpUrl}]\n${targets.join("\n")}`;
  });
  assert.equal(blocking.length, 0, `${what} has ${blocking.length} serious/critical WCAG 2 AA violation(s):\n${report.join("\n")}`);
}

/**
 * Shows the page at 390 px wide and fails if it scrolls sideways or a visible element sticks out
 * of the screen (elements inside their own scrolling box, and ones moved fully off-screen on
 * purpose like a honeypot, are fine). Restores the previous viewport afterwards.
 */
export async function assertFitsPhone(page: Page, what: string): Promise<void> {
  const previous = page.viewportSize();
  await page.setViewportSize(PHONE);
  try {
    const layout = await page.evaluate<{ width: number; scrollWidth: number; sticking: string[] }>(measureOverflow);
    assert.ok(
      layout.scrollWidth <= layout.width && layout.sticking.length === 0,
      `${what} does not fit a ${PHONE.width} px screen: page is ${layout.scrollWidth} px wide for ${layout.width} px\n  ` +
        layout.sticking.slice(0, 10).join("\n  "),
    );
  } finally {
    if (previous) await page.setViewportSize(previous);
  }
}

/** Both checks, at the current size and at phone width (axe again there: layouts change). */
export async function assertUsable(page: Page, what: string): Promise<void> {
  await assertAccessible(page, what);
  await assertFitsPhone(page, what);
  const previous = page.viewportSize();
  await page.setViewportSize(PHONE);
  try {
    await assertAccessible(page, `${what} at ${PHONE.width} px`);
  } finally {
    if (previous) await page.setViewportSize(previous);
  }
}
