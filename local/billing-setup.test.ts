// The plans' Stripe prices, as the stack creates them at start: by lookup key, so a second start
// changes nothing, and a price changed in public.plans moves the lookup key to a new price.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type PlanPrice, syncPlanPrices } from "./billing-setup.ts";
import { startTestEmulator, type TestEmulator } from "./stripe/test-support.ts";

let emu: TestEmulator;
before(async () => {
  emu = await startTestEmulator();
});
after(async () => {
  await emu?.close();
});

const plans: PlanPrice[] = [
  { id: "starter", name: "Starter", stripe_lookup_key: "t_starter_monthly", price_cents: 2900, currency: "usd", billing_interval: "month" },
  { id: "pro", name: "Pro", stripe_lookup_key: "t_pro_yearly", price_cents: 199000, currency: "usd", billing_interval: "year" },
];

test("creates one recurring price per plan, found by its lookup key; a second start keeps them", async () => {
  assert.deepEqual(await syncPlanPrices(emu.stripe, plans), { created: ["t_starter_monthly", "t_pro_yearly"], kept: [] });
  const prices = await emu.stripe.prices.list({ lookup_keys: ["t_starter_monthly", "t_pro_yearly"], expand: ["data.product"] });
  const byKey = Object.fromEntries(prices.data.map((p) => [p.lookup_key, p]));
  assert.deepEqual(
    [byKey.t_starter_monthly.unit_amount, byKey.t_starter_monthly.recurring?.interval, (byKey.t_starter_monthly.product as { name: string }).name],
    [2900, "month", "Starter"],
  );
  assert.equal(byKey.t_pro_yearly.recurring?.interval, "year");
  assert.equal(byKey.t_pro_yearly.metadata.plan_id, "pro");
  assert.deepEqual(await syncPlanPrices(emu.stripe, plans), { created: [], kept: ["t_starter_monthly", "t_pro_yearly"] });
  assert.equal((await emu.stripe.prices.list({ limit: 100 })).data.length, 2, "no second price");
});

test("a new amount or name: the lookup key moves to a new price on the same product, the old price is archived", async () => {
  const [old] = (await emu.stripe.prices.list({ lookup_keys: ["t_starter_monthly"] })).data;
  const changed = [{ ...plans[0], price_cents: 3900, name: "Starter Plus" }, plans[1]];
  assert.deepEqual(await syncPlanPrices(emu.stripe, changed), { created: ["t_starter_monthly"], kept: ["t_pro_yearly"] });
  const [current] = (await emu.stripe.prices.list({ lookup_keys: ["t_starter_monthly"], expand: ["data.product"] })).data;
  assert.notEqual(current.id, old.id);
  assert.equal(current.unit_amount, 3900);
  assert.equal((current.product as { id: string; name: string }).id, old.product);
  assert.equal((current.product as { name: string }).name, "Starter Plus");
  const archived = await emu.stripe.prices.retrieve(old.id);
  assert.deepEqual([archived.active, archived.lookup_key], [false, null]);
});
