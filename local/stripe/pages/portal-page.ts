// The Customer Portal page at a portal session's `url` (cancel at period end or renew, switch
// plan, replace the card, invoice history) and the hosted invoice page behind an invoice's
// `hosted_invoice_url`, where an open invoice can be paid with another card.
import type { IncomingMessage, ServerResponse } from "node:http";
import { changePrice, endSubscription, invoiceNow } from "../billing.ts";
import type { Core } from "../core.ts";
import { StripeApiError } from "../errors.ts";
import { payInvoiceWithCard, replaceDefaultCard } from "../payments.ts";
import { isLive, type CustomerRec, type InvoiceRec, type PortalConfigRec, type PriceRec, type SubscriptionRec } from "../records.ts";
import { intervalText, money } from "../format.ts";
import { cardEntry, cardFields, date, html, page, readForm, redirect, sendHtml, type Html } from "./layout.ts";


/** Fixed texts for the notices a redirect asks for, so nothing from the URL is echoed. */
const notices: Record<string, string> = {
  canceled: "Your subscription will be canceled at the end of the current period.",
  "canceled-now": "Your subscription has been canceled.",
  renewed: "Your subscription will renew as usual.",
  switched: "Your plan has been changed.",
  card: "Your card has been saved.",
  "card-failed": "Your card has been saved, but charging the outstanding invoice failed.",
  paid: "Thank you: the invoice is paid.",
};

function statusText(sub: SubscriptionRec): string {
  switch (sub.status) {
    case "trialing":
      return `Trial ends ${date(sub.trialEnd ?? sub.items[0].periodEnd)}`;
    case "past_due":
      return "Past due: the last payment failed";
    case "unpaid":
      return "Unpaid";
    case "incomplete":
      return "Incomplete: the first payment failed";
    default:
      return sub.status === "active" ? "Active" : sub.status;
  }
}

function priceLabel(core: Core, price: PriceRec): string {
  const product = core.store.products.get(price.product)?.name ?? price.product;
  const r = price.recurring!;
  return `${product} (${money(price.unitAmount, price.currency)} per ${intervalText(r.interval, r.intervalCount)})`;
}

/** Prices the portal may switch a subscription to, per the configuration (all when unrestricted). */
function switchTargets(core: Core, config: PortalConfigRec, sub: SubscriptionRec): PriceRec[] {
  if (!config.update.enabled || sub.items.length !== 1) return [];
  const allowed = config.update.products === null ? null : new Set(config.update.products.flatMap((p) => p.prices));
  return [...core.store.prices.values()]
    .filter((p) => p.active && p.recurring && p.currency === sub.currency && p.id !== sub.items[0].price && (allowed === null || allowed.has(p.id)))
    .filter((p) => core.store.products.get(p.product)?.active !== false)
    .sort((a, b) => a.unitAmount - b.unitAmount);
}

function subscriptionSection(core: Core, config: PortalConfigRec, sessionId: string, sub: SubscriptionRec): Html {
  const price = core.store.prices.get(sub.items[0].price)!;
  const end = sub.items[0].periodEnd;
  const when = sub.cancelAt !== null ? `Cancels on ${date(sub.cancelAt)}` : `Renews on ${date(end)}`;
  const action = `/p/session/${sessionId}`;
  const cancel = config.cancel.enabled && isLive(sub)
    ? sub.cancelAt === null
      ? html`<form method="post" action="${action}" class="inline"><input type="hidden" name="action" value="cancel"><input type="hidden" name="subscription" value="${sub.id}"><button type="submit" class="secondary">Cancel subscription</button></form>`
      : html`<form method="post" action="${action}" class="inline"><input type="hidden" name="action" value="renew"><input type="hidden" name="subscription" value="${sub.id}"><button type="submit">Renew subscription</button></form>`
    : "";
  const targets = isLive(sub) ? switchTargets(core, config, sub) : [];
  return html`
<section class="card" aria-labelledby="sub-${sub.id}">
  <h2 id="sub-${sub.id}">${priceLabel(core, price)}</h2>
  <p><strong>${statusText(sub)}</strong><br><span class="muted">${when}</span></p>
  ${cancel}
  ${targets.length ? html`<h3>Change plan</h3><ul class="plain">${targets.map((t) => html`<li>
    <form method="post" action="${action}"><input type="hidden" name="action" value="switch"><input type="hidden" name="subscription" value="${sub.id}"><input type="hidden" name="price" value="${t.id}">
    <button type="submit" class="secondary">Switch to ${priceLabel(core, t)}</button></form></li>`)}</ul>` : ""}
</section>`;
}

function invoiceHistory(core: Core, customer: CustomerRec): Html {
  const invoices = [...core.store.invoices.values()].filter((i) => i.customer === customer.id && i.status !== "draft").sort((a, b) => b.seq - a.seq).slice(0, 24);
  if (!invoices.length) return html`<p class="muted">No invoices yet.</p>`;
  return html`<ul class="plain">${invoices.map((i) => html`<li>${date(i.created)} — ${money(i.total, i.currency)} — ${i.status}
    ${i.status === "open" ? html` — <a href="/i/${i.id}">Pay now</a>` : html` — <a href="/i/${i.id}">View</a>`}</li>`)}</ul>`;
}

function renderPortal(core: Core, sessionId: string, error: string | null, notice: string | null): string {
  const session = core.store.portalSessions.get(sessionId)!;
  const config = core.store.portalConfigs.get(session.configuration)!;
  const customer = core.store.customers.get(session.customer)!;
  const subs = [...core.store.subscriptions.values()].filter((s) => s.customer === customer.id && (isLive(s) || s.status === "incomplete")).sort((a, b) => b.seq - a.seq);
  const pm = customer.defaultPaymentMethod ?? subs[0]?.defaultPaymentMethod;
  const card = pm ? core.store.paymentMethods.get(pm) : undefined;
  const body = html`
${session.returnUrl ? html`<p><a href="${session.returnUrl}">← Return to ${new URL(session.returnUrl).host}</a></p>` : ""}
<h1>${config.headline ?? "Manage your subscription"} <span class="test">TEST MODE</span></h1>
<p class="muted">${customer.email ?? customer.name ?? customer.id}</p>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}
${subs.length ? subs.map((s) => subscriptionSection(core, config, sessionId, s)) : html`<p>You have no active subscription.</p>`}
${config.paymentMethodUpdate ? html`
<form method="post" action="/p/session/${sessionId}" class="card" novalidate aria-labelledby="pm-heading">
  <h2 id="pm-heading">Payment method</h2>
  <p>${card ? `${card.brand.toUpperCase()} ending in ${card.cardNumber.slice(-4)}, expires ${String(card.expMonth).padStart(2, "0")}/${card.expYear}` : "No card on file."}</p>
  <input type="hidden" name="action" value="card">
  ${cardFields({}, error)}
  <button type="submit" class="pay">Save card</button>
</form>` : ""}
${config.invoiceHistory ? html`<section class="card" aria-labelledby="inv-heading"><h2 id="inv-heading">Invoice history</h2>${invoiceHistory(core, customer)}</section>` : ""}`;
  return page("Manage subscription (Stripe emulator)", body);
}

export async function handlePortalPage(core: Core, req: IncomingMessage, res: ServerResponse, sessionId: string, url: URL): Promise<void> {
  const session = core.store.portalSessions.get(sessionId);
  const customer = session && core.store.customers.get(session.customer);
  if (!session || !customer || customer.deleted) return sendHtml(res, 404, page("Not found", html`<h1>Something went wrong</h1><p>This link is not valid.</p>`));
  core.kick();
  if (req.method === "GET") return sendHtml(res, 200, renderPortal(core, sessionId, null, notices[url.searchParams.get("notice") ?? ""] ?? null));
  if (req.method !== "POST") return sendHtml(res, 405, page("Not allowed", html`<h1>Method not allowed</h1>`));
  const form = await readForm(req);
  const config = core.store.portalConfigs.get(session.configuration)!;
  const action = form.get("action");
  const back = (notice: string) => redirect(res, `/p/session/${sessionId}?notice=${notice}`);
  if (action === "card" && config.paymentMethodUpdate) {
    try {
      // Like the portal, a new card settles what is outstanding at once.
      const { outcomes } = core.automatic(() => replaceDefaultCard(core, customer, cardEntry(form), { email: customer.email, name: customer.name }, true));
      core.kick();
      return back(outcomes.every((o) => o.ok) ? "card" : "card-failed");
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      return sendHtml(res, 402, renderPortal(core, sessionId, error.body.message, null));
    }
  }
  const sub = core.store.subscriptions.get(form.get("subscription") ?? "");
  if (!sub || sub.customer !== customer.id || !isLive(sub)) return sendHtml(res, 400, renderPortal(core, sessionId, null, null));
  const now = core.store.now();
  core.automatic(() => {
    if (action === "cancel" && config.cancel.enabled) {
      if (config.cancel.mode === "immediately") return endSubscription(core, sub, now, "cancellation_requested");
      core.updateSubscription(sub, () => {
        sub.cancelAtPeriodEnd = true;
        sub.cancelAt = sub.items[0].periodEnd;
        sub.canceledAt = now;
        sub.cancellation.reason = "cancellation_requested";
      });
    } else if (action === "renew" && config.cancel.enabled) {
      core.updateSubscription(sub, () => {
        sub.cancelAtPeriodEnd = false;
        sub.cancelAt = null;
        sub.canceledAt = null;
        sub.cancellation.reason = null;
      });
    } else if (action === "switch") {
      const target = switchTargets(core, config, sub).find((p) => p.id === form.get("price"));
      if (!target) return;
      let billNow = false;
      core.updateSubscription(sub, () => (billNow = changePrice(core, sub, sub.items[0].id, target.id)));
      if (billNow) invoiceNow(core, sub);
    }
  });
  core.kick();
  back(action === "cancel" ? (config.cancel.mode === "immediately" ? "canceled-now" : "canceled") : action === "renew" ? "renewed" : "switched");
}

function renderInvoice(core: Core, invoice: InvoiceRec, error: string | null, notice: string | null): string {
  const body = html`
<h1>Invoice ${invoice.number ?? ""} <span class="test">TEST MODE</span></h1>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}
<section class="card" aria-labelledby="inv-heading">
  <h2 id="inv-heading">${money(invoice.total, invoice.currency)} — ${invoice.status === "open" ? "due" : invoice.status}</h2>
  <p class="muted">Issued ${date(invoice.created)}</p>
  <ul class="plain">${invoice.lines.map((l) => html`<li>${l.description}: ${money(l.amount, invoice.currency)}</li>`)}</ul>
</section>
${invoice.status === "open" ? html`
<form method="post" action="/i/${invoice.id}" class="card" novalidate aria-labelledby="pay-heading">
  <h2 id="pay-heading">Pay with card</h2>
  ${cardFields({}, error)}
  <button type="submit" class="pay">Pay ${money(invoice.total, invoice.currency)}</button>
</form>` : ""}`;
  return page(`Invoice ${invoice.number ?? invoice.id} (Stripe emulator)`, body);
}

export async function handleInvoicePage(core: Core, req: IncomingMessage, res: ServerResponse, invoiceId: string, url: URL): Promise<void> {
  const invoice = core.store.invoices.get(invoiceId);
  if (!invoice || invoice.status === "draft") return sendHtml(res, 404, page("Not found", html`<h1>Something went wrong</h1><p>This invoice link is not valid.</p>`));
  if (req.method === "GET") return sendHtml(res, 200, renderInvoice(core, invoice, null, notices[url.searchParams.get("notice") ?? ""] ?? null));
  if (req.method !== "POST") return sendHtml(res, 405, page("Not allowed", html`<h1>Method not allowed</h1>`));
  const form = await readForm(req);
  if (invoice.status !== "open") return redirect(res, `/i/${invoice.id}`);
  const customer = core.store.customers.get(invoice.customer);
  try {
    const outcome = core.automatic(() => payInvoiceWithCard(core, invoice, cardEntry(form), { email: customer?.email ?? null, name: customer?.name ?? null }));
    core.kick();
    if (!outcome.ok) return sendHtml(res, 402, renderInvoice(core, invoice, outcome.failure!.message, null));
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    return sendHtml(res, 402, renderInvoice(core, invoice, error.body.message, null));
  }
  redirect(res, `/i/${invoice.id}?notice=paid`);
}
