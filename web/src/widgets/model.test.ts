import { test } from "node:test";
import assert from "node:assert/strict";
import { consentProblems, defaultConsentText, installSnippet, parseOrigins } from "./model.ts";

test("origins: scheme://host[:port], each bad line named", () => {
  assert.deepEqual(parseOrigins("https://www.Example.com/\nhttp://localhost:8080"),
    { origins: ["https://www.example.com", "http://localhost:8080"], errors: [] });
  const bad = parseOrigins("example.com\nhttps://shop.example/contact\nftp://x.example\nhttps://a.example\nhttps://a.example\nhttps://x.example:70000\nhttps://bücher.example\nhttps://[::1]");
  assert.deepEqual(bad.errors.map((e) => [e.line, e.message.split(" ")[0] + " " + e.message.split(" ")[1]]), [
    [1, "must start"], [2, "must be"], [3, "must start"], [5, "is listed"], [6, "is not"], [8, "has characters"],
  ]);
  assert.ok(bad.origins.includes("https://xn--bcher-kva.example"), "an international name in the form browsers send");
  assert.match(bad.errors[1].message, /without a path: https:\/\/shop\.example$/);
  assert.equal(parseOrigins("  ").errors.length, 1, "at least one site");
  assert.equal(parseOrigins(Array.from({ length: 21 }, (_, i) => `https://s${i}.example`).join("\n")).errors.length, 1, "at most 20");
});

test("the snippet carries the widget id, the project URL and key, and the language when chosen", () => {
  const tag = installSnippet({ widgetId: "w-1", supabaseUrl: "https://p.supabase.co", supabaseKey: "anon\"key", scriptUrl: "https://app.example/widget/leadloop-widget.js", locale: "es" });
  assert.match(tag, /^<script src="https:\/\/app\.example\/widget\/leadloop-widget\.js" data-widget-id="w-1"/);
  assert.match(tag, /data-supabase-key="anon&quot;key" data-locale="es" async><\/script>$/);
  assert.doesNotMatch(installSnippet({ widgetId: "w", supabaseUrl: "u", supabaseKey: "k", scriptUrl: "s" }), /data-locale/);
});

test("default consent texts name the business; the database's refusal is split per language", () => {
  assert.match(defaultConsentText("en", "Acme"), /from Acme about my service request.*Msg & data rates may apply.*STOP.*HELP/);
  assert.match(defaultConsentText("es", "Acme"), /de Acme sobre mi solicitud/);
  const parsed = consentProblems("saving the widget: The SMS consent text is incomplete: consent_texts.es must name the business (\"Acme\"), say how to stop and get help (e.g. \"Responda STOP para cancelar, HELP para ayuda\"); consent_text must say \"Msg & data rates may apply\". (23514)");
  assert.deepEqual(parsed, [
    { locale: "es", problems: ["name the business (\"Acme\")", "say how to stop and get help (e.g. \"Responda STOP para cancelar, HELP para ayuda\")"] },
    { locale: "default", problems: ["say \"Msg & data rates may apply\""] },
  ]);
  assert.equal(consentProblems("something else"), null);
});
