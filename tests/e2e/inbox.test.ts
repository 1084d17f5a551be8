// The inbox and the reports page as an owner uses them from a phone: 390 px wide, keyset pages that
// stay put while leads arrive, search by name, words and a phone typed any way, filters, unread
// badges, live arrival at the top, and the reports page's charts with their tables (axe-clean).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import pg from "pg";
import type { Stack } from "../support/stack.ts";
import { assertUsable, PHONE } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, type OwnBusiness, signIn, TIMEOUT, uniquePhone } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;
let own: OwnBusiness;
let db: pg.Client;
const LEADS = 70;
const findMe = uniquePhone();

/** Lead i (0 = oldest): a minute apart, ending an hour ago; every 7th is won, every 10th has unread texts. */
function leadRow(i: number) {
  return {
    name: i === 3 ? "Zebulon Quartermaine" : `Inbox Lead ${String(i).padStart(2, "0")}`,
    phone: i === 3 ? findMe.e164 : `+1415555${String(1000 + i).padStart(4, "0")}`,
    message: i === 5 ? "Water heater pilot keeps going out" : `Gutter cleaning, request ${i}`,
    status: i % 7 === 0 ? "won" : "new",
    unread: i % 10 === 9 ? 2 : 0,
    minutesAgo: 60 + (LEADS - 1 - i),
  };
}

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  // A finished past, inserted without the intake triggers (nothing to alert or text), search text included.
  const rows = Array.from({ length: LEADS }, (_, i) => leadRow(i));
  await db.query("begin");
  await db.query("set local session_replication_role = replica");
  await db.query(
    `insert into public.leads (widget_id, business_id, name, phone, message, locale, owner_alert_status, followup_status, not_texted_reason,
                               created_at, status, unread_count, search_text)
     select $1, $2, r.name, r.phone, r.message, 'en', 'delivered', 'not_texted', 'no_consent', now() - make_interval(mins => r.minutes_ago),
            r.status, r.unread, private.lead_search_text(r.name, r.phone, null, r.message, null)
       from jsonb_to_recordset($3::jsonb) as r(name text, phone text, message text, status text, unread int, minutes_ago int)`,
    [own.widgetId, own.businessId, JSON.stringify(rows.map((r) => ({ ...r, minutes_ago: r.minutesAgo })))],
  );
  await db.query("commit");
});

after(async () => {
  await browser?.close();
  await db?.end();
});

async function onPhone(body: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  try {
    const page = await context.newPage();
    await signIn(page, stack.dashboardUrl!, own.email, own.password);
    await page.getByRole("heading", { name: "Leads", exact: true }).waitFor({ timeout: TIMEOUT });
    await body(page);
  } finally {
    await context.close();
  }
}

const rowNames = (page: Page) => page.locator(".lead-row .lead-name").evaluateAll((els) => els.map((el) => el.firstChild?.textContent ?? ""));

async function waitForRows(page: Page, test: (names: string[]) => boolean, what: string): Promise<string[]> {
  const deadline = Date.now() + TIMEOUT;
  let names: string[] = [];
  while (Date.now() < deadline) {
    names = await rowNames(page);
    if (test(names) && (await page.locator(".lead-list[aria-busy=true]").count()) === 0) return names;
    await page.waitForTimeout(100);
  }
  assert.fail(`${what}: the list shows ${JSON.stringify(names)}`);
}

/** Every visible control is at least 44 px tall and wide enough to hit (WCAG 2.5.5 as the brief asks). */
async function assertTouchTargets(page: Page, selector: string): Promise<void> {
  const small = await page.locator(selector).evaluateAll((els) =>
    els.filter((el) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && (box.height < 44 || box.width < 44);
    }).map((el) => `${el.tagName} "${el.textContent?.trim()}"`));
  assert.deepEqual(small, [], "touch targets under 44 px");
}

test("pages are keyset pages that stay put while a lead arrives; the newest page shows it live", async () => {
  await onPhone(async (page) => {
    const first = await waitForRows(page, (n) => n.length === 50, "first page");
    assert.equal(first[0], "Inbox Lead 69");
    assert.equal(first[49], "Inbox Lead 20");
    await assertUsable(page, "inbox");
    await assertTouchTargets(page, ".inbox-filters button, .inbox-filters select, .inbox-filters input, .pager a, .lead-link");

    await page.getByRole("link", { name: "Older →" }).click();
    const older = await waitForRows(page, (n) => n[0] === "Inbox Lead 19", "older page");
    assert.equal(older.length, 20);
    assert.match(page.url(), /before=/);
    await assertUsable(page, "inbox, older page");

    // A lead arrives (through the real intake): the older page does not shift.
    await db.query("insert into public.leads (widget_id, name, phone, message, sms_consent) values ($1, 'Live Arrival', $2, 'Just now', false)",
      [own.widgetId, uniquePhone().e164]);
    await page.waitForTimeout(1500);
    assert.deepEqual(await rowNames(page), older);

    await page.getByRole("link", { name: "Newest" }).click();
    await waitForRows(page, (n) => n[0] === "Live Arrival" && n[1] === "Inbox Lead 69", "newest page with the new lead");

    // On the first page, the next one appears at the top without a reload.
    await db.query("insert into public.leads (widget_id, name, phone, message, sms_consent) values ($1, 'Second Arrival', $2, 'Later', false)",
      [own.widgetId, uniquePhone().e164]);
    await waitForRows(page, (n) => n[0] === "Second Arrival" && n[1] === "Live Arrival", "live arrival on page one");
    await page.locator(".lead-arrived", { hasText: "Second Arrival" }).waitFor({ timeout: TIMEOUT });
  });
});

test("search finds a lead by name, by words of the message and by a phone typed any way", async () => {
  await onPhone(async (page) => {
    const box = page.getByRole("searchbox", { name: "Search leads" });
    await box.fill("zebulon");
    await waitForRows(page, (n) => n.length === 1 && n[0] === "Zebulon Quartermaine", "search by name");
    assert.match(page.url(), /q=zebulon/);
    await assertUsable(page, "inbox with a search");

    await box.fill("pilot heater");
    await waitForRows(page, (n) => n.length === 1 && n[0] === "Inbox Lead 05", "search by words of the message");

    await box.fill(findMe.typed);
    await waitForRows(page, (n) => n.length === 1 && n[0] === "Zebulon Quartermaine", "search by a formatted phone");

    await box.fill("nobody-by-this-name");
    await page.getByRole("heading", { name: "No leads match" }).waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "inbox with no match");
    await page.getByRole("link", { name: "Show all leads" }).click();
    await waitForRows(page, (n) => n.length === 50, "all leads again");
    assert.equal(await box.inputValue(), "");
  });
});

test("filters: pipeline status and unread, with the unread badges", async () => {
  await onPhone(async (page) => {
    // Leads 9, 19, ..., 69 have two unread texts each.
    const badge = page.getByTestId("unread-badge");
    await badge.waitFor({ timeout: TIMEOUT });
    assert.equal((await badge.textContent())?.replace(/\D+.*/, ""), "14");

    await page.getByRole("button", { name: "Won", exact: true }).click();
    const won = await waitForRows(page, (n) => n.length === 10 && n.every((name) => /Lead (\d\d)$/.test(name)), "won leads");
    assert.ok(won.every((name) => Number(name.slice(-2)) % 7 === 0), JSON.stringify(won));
    assert.equal(await page.getByRole("button", { name: "Won", exact: true }).getAttribute("aria-pressed"), "true");
    await page.getByRole("button", { name: "Won", exact: true }).click();

    await page.getByLabel("Needs attention").selectOption("unread");
    const unread = await waitForRows(page, (n) => n.length === 7, "unread leads");
    assert.deepEqual(unread, ["Inbox Lead 69", "Inbox Lead 59", "Inbox Lead 49", "Inbox Lead 39", "Inbox Lead 29", "Inbox Lead 19", "Inbox Lead 09"]);
    assert.equal(await page.locator(".lead-row").first().locator(".unread-badge").getAttribute("aria-label"), "2 unread texts");
    assert.match(page.url(), /attention=unread/);
    await assertUsable(page, "inbox filtered to unread");
  });
});

test("reports: totals, the two uPlot charts with their tables, and the numbers per form", async () => {
  await onPhone(async (page) => {
    await page.getByRole("link", { name: "Reports" }).click();
    await page.getByRole("heading", { name: "Reports" }).waitFor({ timeout: TIMEOUT });
    await page.locator(".chart canvas").nth(1).waitFor({ timeout: TIMEOUT });
    const leads = page.locator(".tile", { hasText: "Leads" }).locator(".tile-value");
    assert.ok(Number(await leads.textContent()) >= LEADS, `leads tile: ${await leads.textContent()}`);
    await page.getByTestId("sources-table").getByRole("rowheader").first().waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "reports page");
    await page.getByText("The days as a table").click();
    await assertUsable(page, "reports page with the days table open");
    await page.getByRole("link", { name: "90 days" }).click();
    await page.waitForURL(/days=90/, { timeout: TIMEOUT });
    await page.getByRole("link", { name: "90 days" }).and(page.locator("[aria-current=page]")).waitFor({ timeout: TIMEOUT });
    assert.deepEqual(await page.getByRole("navigation", { name: "Period" }).locator("[aria-current=page]").allTextContents(), ["90 days"]);
  });
});
