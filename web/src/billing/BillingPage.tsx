import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useNow } from "../lib/useNow.ts";
import type { Plan, Subscription } from "../lib/types.ts";
import { useMembership } from "../shell/membership.tsx";
import { Chip } from "../ui/Chip.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { billingView, formatPrice, mayCheckOut } from "./model.ts";
import { billingQueries, useCheckout, usePortal } from "./queries.ts";

const route = getRouteApi("/app/billing");

export function BillingPage() {
  useDocumentTitle("Billing");
  const { business, role } = useMembership();
  const db = useDb();
  const { checkout } = route.useSearch();
  const subscription = useQuery(billingQueries.subscription(db, business.id));
  const plans = useQuery(billingQueries.plans(db));
  const isOwner = role === "owner";

  return (
    <section aria-labelledby="billing-title">
      <div className="page-head"><h1 id="billing-title">Billing</h1></div>
      {!isOwner && <div className="alert alert-info">Only the business owner can change the plan or the payment details.</div>}
      {checkout === "canceled" && <div className="alert alert-info">Checkout canceled: nothing was charged.</div>}
      {subscription.isPending && <Loading what="your plan" />}
      {subscription.error && <ErrorBox error={subscription.error} onRetry={() => void subscription.refetch()} />}
      {subscription.isSuccess && (
        <>
          {checkout === "success" && <CheckoutResult subscription={subscription.data} />}
          <CurrentPlan subscription={subscription.data} businessId={business.id} isOwner={isOwner} />
          <Plans plans={plans.data} error={plans.error} subscription={subscription.data} businessId={business.id} isOwner={isOwner} />
        </>
      )}
    </section>
  );
}

/** How long Stripe usually takes to confirm; after it the page says what may have happened. */
const CONFIRMATION_WAIT_MS = 30_000;

/** Back from Checkout: the plan shows once Stripe's webhook has reached the database (live over Realtime). */
function CheckoutResult({ subscription }: { subscription: Subscription | null }) {
  const [since] = useState(() => Date.now());
  const now = useNow(5_000);
  const confirmed = subscription?.stripe_subscription_id && !mayCheckOut(subscription);
  const plan = subscription?.plan?.name ?? "new";
  if (!confirmed && now.getTime() - since > CONFIRMATION_WAIT_MS) {
    return (
      <div className="alert alert-warning" role="status">
        Stripe has not confirmed a payment. If the first payment was declined, nothing was charged and your current plan
        continues: choose a plan again with another card.
      </div>
    );
  }
  return (
    <div className={`alert ${confirmed ? "alert-success" : "alert-info"}`} role="status">
      {!confirmed
        ? "Thank you! Confirming your payment with Stripe…"
        : subscription.status === "active" ? `Thank you! Your ${plan} plan is active.` : `Thank you! Your ${plan} plan is set up.`}
    </div>
  );
}

function CurrentPlan({ subscription, businessId, isOwner }: { subscription: Subscription | null; businessId: string; isOwner: boolean }) {
  const now = useNow();
  const view = billingView(subscription, now);
  const portal = usePortal(businessId);
  const percent = view.quota > 0 ? Math.min(100, Math.round((view.used / view.quota) * 100)) : 100;
  return (
    <section className="card billing-current" aria-labelledby="current-plan-title">
      <h2 id="current-plan-title">Current plan</h2>
      <div className="billing-plan-head">
        <strong className="billing-plan-name">{view.planName}</strong>
        <Chip tone={view.chip.tone} label={view.chip.label} />
        {subscription?.plan?.billing_interval && <span className="muted">{formatPrice(subscription.plan)}</span>}
      </div>
      {view.notice && <div className={`alert alert-${view.notice.tone}`} role="alert">{view.notice.text}</div>}
      {subscription && (
        <div className="usage">
          <div className="usage-label">
            <span id="usage-title">Conversations this period</span>
            <span><strong>{view.used}</strong> of {view.quota} used</span>
          </div>
          <meter className="usage-meter" min={0} max={Math.max(1, view.quota)} value={Math.min(view.used, Math.max(1, view.quota))}
            low={Math.max(1, view.quota) * 0.8} high={Math.max(1, view.quota) * 0.95} optimum={0}
            aria-labelledby="usage-title" aria-valuetext={`${view.used} of ${view.quota} conversations used (${percent}%)`} />
          <p className="muted small">{view.period}. Each lead texted back starts one conversation. {view.resets}</p>
        </div>
      )}
      {isOwner && subscription?.stripe_subscription_id && (
        <div className="actions">
          <button type="button" className="btn" onClick={portal.open} disabled={portal.isPending}>
            {portal.isPending ? "Opening…" : "Manage billing"}
          </button>
          <span className="muted small">Change plan, update your card, see invoices or cancel.</span>
        </div>
      )}
      {portal.error && <ErrorBox error={portal.error} />}
    </section>
  );
}

function Plans({ plans, error, subscription, businessId, isOwner }: {
  plans: Plan[] | undefined;
  error: Error | null;
  subscription: Subscription | null;
  businessId: string;
  isOwner: boolean;
}) {
  const checkout = useCheckout(businessId);
  const canBuy = isOwner && mayCheckOut(subscription);
  const onStripe = subscription?.stripe_subscription_id && !mayCheckOut(subscription);
  return (
    <section className="card billing-plans" aria-labelledby="plans-title">
      <h2 id="plans-title">Plans</h2>
      {onStripe && isOwner && <p className="muted">To switch plans, use Manage billing above.</p>}
      {error && <ErrorBox error={error} />}
      {checkout.error && <ErrorBox error={checkout.error} />}
      {!plans && !error && <Loading what="the plans" />}
      <ul className="plan-list">
        {plans?.map((plan) => {
          const current = subscription?.plan_id === plan.id && !!subscription.stripe_subscription_id && !mayCheckOut(subscription);
          return (
            <li key={plan.id} className={`plan${current ? " plan-current" : ""}`}>
              <h3 className="plan-name">{plan.name}</h3>
              <p className="plan-price">{formatPrice(plan)}</p>
              <p className="muted small">{plan.conversations_per_period.toLocaleString("en-US")} conversations per {plan.billing_interval}. {plan.description}</p>
              {current
                ? <Chip tone="success" label="Your plan" />
                : canBuy && (
                  <button type="button" className="btn btn-primary" disabled={checkout.isPending} onClick={() => checkout.start(plan.id)}>
                    {checkout.isPending && checkout.variables?.plan === plan.id ? "Opening checkout…" : `Choose ${plan.name}`}
                  </button>
                )}
            </li>
          );
        })}
      </ul>
      <p className="muted small">Payments are handled by Stripe. You can cancel at any time under Manage billing.</p>
    </section>
  );
}
