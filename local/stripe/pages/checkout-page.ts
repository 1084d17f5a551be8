// The hosted checkout page at a Checkout Session's `url`: what is being bought, an email field
// when the session has none, the card fields, "Pay"; then a redirect to success_url with
// {CHECKOUT_SESSION_ID} filled in, or the card error on the same page.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Core } from "../core.ts";
import { StripeApiError } from "../errors.ts";
import { completeCheckout } from "../payments.ts";
import type { CheckoutSessionRec } from "../records.ts";
import { checkoutAmount } from "../shapes-checkout.ts";
import { intervalText, looksLikeEmail, money } from "../format.ts";
import { cardEntry, cardFields, date, html, page, readForm, redirect, sendHtml, type CardFormValues, type Html } from "./layout.ts";

function summary(core: Core, session: CheckoutSessionRec): Html {
  const { store } = core;
  const items = session.lineItems.map((item) => {
    const price = store.prices.get(item.price)!;
    const product = store.products.get(price.product);
    const r = price.recurring!;
    return html`<li><strong>${product?.name ?? "Subscription"}</strong>${item.quantity > 1 ? ` × ${item.quantity}` : ""}
      <span class="muted">${money(price.unitAmount * item.quantity, price.currency)} per ${intervalText(r.interval, r.intervalCount)}</span>
      ${product?.description ? html`<br><span class="muted">${product.description}</span>` : ""}</li>`;
  });
  const total = checkoutAmount(store, session);
  const r = store.prices.get(session.lineItems[0].price)!.recurring!;
  const trialDays = session.subscriptionData.trialPeriodDays;
  const trialEnd = session.subscriptionData.trialEnd;
  const trial = trialDays ? `${trialDays} days free` : trialEnd ? `Free until ${date(trialEnd)}` : null;
  return html`
<section class="card" aria-labelledby="order-heading">
  <h2 id="order-heading">Subscribe</h2>
  ${trial ? html`<p class="amount">${trial}</p><p class="muted">Then ${money(total, session.currency)} per ${intervalText(r.interval, r.intervalCount)}</p>`
    : html`<p class="amount">${money(total, session.currency)} <span class="muted">per ${intervalText(r.interval, r.intervalCount)}</span></p>`}
  <ul class="plain">${items}</ul>
</section>`;
}

export function renderCheckout(core: Core, session: CheckoutSessionRec, values: CardFormValues = {}, error: string | null = null): string {
  const customer = session.customer ? core.store.customers.get(session.customer) : undefined;
  const knownEmail = customer?.email ?? session.customerEmail;
  const trial = session.subscriptionData.trialPeriodDays !== null || session.subscriptionData.trialEnd !== null;
  const back = session.cancelUrl ? html`<p><a href="${session.cancelUrl}">← Back</a></p>` : "";
  const body = html`
${back}
<h1>Leadloop <span class="test">TEST MODE</span></h1>
${summary(core, session)}
<form method="post" action="/c/pay/${session.id}" class="card" novalidate aria-labelledby="pay-heading">
  <h2 id="pay-heading">Pay with card</h2>
  ${knownEmail
    ? html`<p>Email <strong>${knownEmail}</strong></p>`
    : html`<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required value="${values.email ?? ""}">`}
  ${cardFields(values, error)}
  <label for="name">Name on card</label>
  <input id="name" name="name" autocomplete="cc-name" value="${values.name ?? ""}">
  <button class="pay" type="submit">${trial ? "Start trial" : "Pay"}</button>
</form>`;
  return page("Leadloop checkout (Stripe emulator)", body);
}

function renderClosed(session: CheckoutSessionRec): string {
  const done = session.status === "complete";
  const target = done ? session.successUrl.replaceAll("{CHECKOUT_SESSION_ID}", session.id) : session.cancelUrl;
  return page(
    done ? "Payment complete" : "Checkout expired",
    html`<h1>${done ? "This checkout is complete" : "This checkout has expired"}</h1>
<p>${done ? "You have already subscribed with this link." : "Start again from the site you came from to get a new checkout link."}</p>
${target ? html`<p><a href="${target}">Return to the site</a></p>` : ""}`,
  );
}

export async function handleCheckoutPage(core: Core, req: IncomingMessage, res: ServerResponse, sessionId: string): Promise<void> {
  const session = core.store.checkoutSessions.get(sessionId);
  if (!session) return sendHtml(res, 404, page("Not found", html`<h1>Something went wrong</h1><p>This checkout link is not valid.</p>`));
  core.kick(); // an expiry that is due shows as expired, not as a payable page
  if (req.method === "GET") {
    if (session.status !== "open") return sendHtml(res, 200, renderClosed(session));
    return sendHtml(res, 200, renderCheckout(core, session));
  }
  if (req.method !== "POST") return sendHtml(res, 405, page("Not allowed", html`<h1>Method not allowed</h1>`));
  const form = await readForm(req);
  if (session.status !== "open") return sendHtml(res, 409, renderClosed(session));
  const values: CardFormValues = { number: form.get("cardnumber") ?? "", expiry: form.get("expiry") ?? "", name: form.get("name") ?? "", email: form.get("email") ?? "" };
  const name = values.name?.trim() || null;
  const customer = session.customer ? core.store.customers.get(session.customer) : undefined;
  const email = customer?.email ?? session.customerEmail ?? values.email?.trim() ?? "";
  if (!customer?.email && !session.customerEmail && !looksLikeEmail(email)) {
    return sendHtml(res, 400, renderCheckout(core, session, values, "Enter a valid email address."));
  }
  try {
    core.automatic(() => completeCheckout(core, session, cardEntry(form), { email: email || null, name }));
    core.kick();
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    return sendHtml(res, error.status === 402 ? 402 : 400, renderCheckout(core, session, values, error.body.message));
  }
  redirect(res, session.successUrl.replaceAll("{CHECKOUT_SESSION_ID}", session.id));
}
