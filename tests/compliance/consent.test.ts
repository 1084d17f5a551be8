// Issue 15 item 6 through the API the widget and the dashboard use: the embed gets the consent text of
// each language, a lead keeps exactly the text of the language its form was shown in, and an owner
// who saves an incomplete text is told what is missing.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import { closeDb, createBusiness, db, deleteBusiness, randomPhone, stack, submitLead, type TestBusiness, widgetClient } from "../loop/loop-support.ts";
import { createBusiness as createFixtureBusiness, createOwnerAccount } from "../support/fixtures.ts";

const businesses: string[] = [];
after(async () => {
  for (const id of businesses) await deleteBusiness({ id } as TestBusiness);
  await closeDb();
});

const spanish = (name: string) =>
  `Acepto recibir mensajes de texto de ${name} sobre mi solicitud. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar, HELP para ayuda.`;

test("the embed gets each language's text and the lead keeps the one its form showed", async () => {
  const b = await createBusiness();
  businesses.push(b.id);
  await db().query("update public.widgets set consent_texts = jsonb_build_object('es', $2::text) where id = $1", [b.widgetId, spanish(b.name)]);
  const { data, error } = await widgetClient().rpc("get_widget_config", { p_widget_id: b.widgetId });
  assert.equal(error, null);
  const texts = (data as { consent_texts: { en: string; es: string } }).consent_texts;
  assert.equal(texts.es, spanish(b.name));
  assert.match(texts.en, /Msg & data rates may apply\. Reply STOP to opt out, HELP for help\./);

  const es = randomPhone();
  await submitLead(b, { phone: es, message: "Necesito un plomero", locale: "es" });
  const en = randomPhone();
  await submitLead(b, { phone: en, message: "Need a plumber", locale: "en" });
  const { rows } = await db().query("select phone, consent_text, locale from public.leads where business_id = $1", [b.id]);
  const byPhone = new Map(rows.map((r) => [r.phone, r]));
  assert.equal(byPhone.get(es).consent_text, texts.es, "the Spanish form's text");
  assert.equal(byPhone.get(es).locale, "es");
  assert.equal(byPhone.get(en).consent_text, texts.en, "the English form's text");
});

test("an owner who saves an incomplete consent text is told what is missing, per language", async () => {
  const account = await createOwnerAccount(stack);
  const own = await createFixtureBusiness(db(), { owner: account.userId });
  businesses.push(own.id);
  const owner = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  assert.equal((await owner.auth.signInWithPassword({ email: account.email, password: account.password })).error, null);
  const bad = await owner.from("widgets").update({ consent_texts: { es: `Acepto mensajes de ${own.name}. Responda STOP.` } }).eq("id", own.widgetId);
  assert.match(bad.error?.message ?? "", /^The SMS consent text is incomplete: consent_texts\.es must say what the texts are about/);
  assert.match(bad.error?.message ?? "", /Pueden aplicarse tarifas de mensajes y datos/);
  assert.match(bad.error?.message ?? "", /HELP para ayuda/);
  const good = await owner.from("widgets").update({ consent_texts: { es: spanish(own.name) } }).eq("id", own.widgetId);
  assert.equal(good.error, null);
  await owner.auth.signOut();
});
