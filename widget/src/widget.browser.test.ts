// The built script in a real browser, both languages, at phone and desktop width, checked with
// axe-core. The REST API is played by the test (page.route), so this needs no running stack.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium, type Browser, type Page, type Request } from "playwright-core";
import { buildWidget } from "../build.ts";

const API = "http://api.leadloop.test";
const WIDGET_ID = "7d1f0f5e-8a43-4b8e-9a55-0c1f3f1c2b11";
const CONFIG = {
  widget_id: WIDGET_ID,
  business_name: "Bright Plumbing",
  consent_text: "I agree to receive text messages from Bright Plumbing about my request. Msg & data rates may apply. Reply STOP to opt out.",
  consent_texts: {
    es: "Acepto recibir mensajes de texto de Bright Plumbing sobre mi solicitud. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar.",
  },
  fields: { name: { required: true }, phone: { required: true }, email: { required: false }, message: { required: false } },
  default_country: "US",
};

let dist: string;
let server: Server;
let origin: string;
let browser: Browser;

before(async () => {
  dist = mkdtempSync(join(tmpdir(), "leadloop-widget-"));
  await buildWidget(dist);
  server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path.startsWith("/widget/")) {
      const file = normalize(join(dist, path.slice("/widget/".length)));
      try {
        const body = readFileSync(file);
        res.writeHead(200, { "content-type": file.endsWith(".json") ? "application/json" : "text/javascript" });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    // /page?lang=es&locale=es: a customer's page, in its own language, with the embed.
    const url = new URL(req.url ?? "/", "http://x");
    const lang = url.searchParams.get("lang") ?? "en";
    const locale = url.searchParams.get("locale");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Plumbing</title></head>
<body><main><h1>Bright Plumbing</h1>
<script src="/widget/leadloop-widget.js" data-widget-id="${WIDGET_ID}" data-supabase-url="${API}"
  data-supabase-key="anon-key" ${locale ? `data-locale="${locale}"` : ""} async></script></main></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (dist) rmSync(dist, { recursive: true, force: true });
});

interface Api {
  inserts: Record<string, unknown>[];
  requests: string[];
}

/** Plays the REST API: the widget config (with `config` changes) and lead inserts. */
async function openWidget(page: Page, query: string, config: Record<string, unknown> = {}): Promise<Api> {
  const api: Api = { inserts: [], requests: [] };
  page.on("request", (r: Request) => api.requests.push(r.url()));
  await page.route(`${API}/**`, async (route) => {
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*" };
    if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    if (route.request().url().endsWith("/rest/v1/rpc/get_widget_config")) {
      return route.fulfill({ status: 200, headers: cors, contentType: "application/json", body: JSON.stringify({ ...CONFIG, ...config }) });
    }
    api.inserts.push(JSON.parse(route.request().postData() ?? "{}"));
    return route.fulfill({ status: 201, headers: cors, body: "" });
  });
  await page.goto(`${origin}/page?${query}`);
  await page.locator(".leadloop-widget form").waitFor();
  return api;
}

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test("a Spanish page gets the form, its errors, the consent text and the thanks in Spanish", async () => {
  const page = await browser.newPage();
  const api = await openWidget(page, "lang=es-MX");
  const form = page.locator(".leadloop-widget form");
  await form.getByRole("heading", { name: "Contacte a Bright Plumbing" }).waitFor();
  assert.equal(await form.locator("label", { hasText: "Acepto recibir" }).count(), 1, "consent_texts.es is shown");
  assert.equal(await page.locator(".leadloop-widget .ll").getAttribute("lang"), "es");

  await form.getByRole("button", { name: "Enviar solicitud" }).click();
  await form.getByText("Escriba su nombre.").waitFor();
  await form.getByText("Escriba su número de teléfono.").waitFor();
  await form.getByText("Corrija los campos marcados.").waitFor();
  assert.equal(await form.getByLabel("Teléfono móvil").getAttribute("aria-invalid"), "true");

  await form.getByLabel("Nombre").fill("Lucía Gómez");
  // A Mexican mobile on a US business's form: +52's rules come in one small request.
  await form.getByLabel("Teléfono móvil").fill("+52 55 1234 5678");
  await form.getByLabel(/Correo electrónico/).fill("lucia@");
  await form.getByRole("button", { name: "Enviar solicitud" }).click();
  await form.getByText("Escriba un correo electrónico como nombre@ejemplo.com.").waitFor();
  await form.getByLabel(/Correo electrónico/).fill("lucia@example.com");
  await form.getByLabel(/En qué podemos ayudarle/).fill("Fuga en el baño");
  await form.getByRole("checkbox").check();
  await form.getByRole("button", { name: "Enviar solicitud" }).click();
  await page.getByText("Gracias, recibimos su solicitud").waitFor();
  await page.getByText("Es posible que le enviemos un mensaje de texto").waitFor();

  assert.equal(api.inserts.length, 1);
  assert.equal(api.inserts[0].phone, "+525512345678");
  assert.equal(api.inserts[0].sms_consent, true);
  assert.equal(api.requests.filter((u) => u.endsWith("/widget/phone/52.json")).length, 1);
  assert.equal(api.requests.filter((u) => /\/widget\/phone\//.test(u)).length, 1, "only +52 was fetched");
  await page.close();
});

test("data-locale overrides the page's language; an English page stays English", async () => {
  const spanish = await browser.newPage();
  await openWidget(spanish, "lang=en&locale=es");
  await spanish.getByRole("heading", { name: "Contacte a Bright Plumbing" }).waitFor();
  await spanish.close();

  const english = await browser.newPage();
  const api = await openWidget(english, "lang=en-US");
  const form = english.locator(".leadloop-widget form");
  await form.getByRole("heading", { name: "Contact Bright Plumbing" }).waitFor();
  assert.equal(await form.locator("label", { hasText: "I agree to receive text messages" }).count(), 1, "no consent_texts.en: consent_text");
  await form.getByLabel(/^Name/).fill("Dana");
  await form.getByLabel(/Mobile phone/).fill("(415) 555-2671");
  await form.getByRole("button", { name: "Send request" }).click();
  await english.getByText("Thanks, we got your request").waitFor();
  assert.equal(api.inserts[0].phone, "+14155552671");
  assert.equal(api.requests.filter((u) => u.includes("/widget/phone/")).length, 0, "+1 ships with the script");
  await english.close();
});

test("a business abroad gets its country's rules right after the config; a blocked rules file loses no lead", async () => {
  const page = await browser.newPage();
  const api = await openWidget(page, "lang=en", { default_country: "GB" });
  const form = page.locator(".leadloop-widget form");
  // Fetched as soon as the config names the country, not when the visitor presses Send.
  await page.waitForFunction(() => performance.getEntriesByType("resource").some((e) => e.name.endsWith("/widget/phone/44.json")));
  await form.getByLabel(/^Name/).fill("Ann");
  await form.getByLabel(/Mobile phone/).fill("07400 123456");
  await form.getByRole("button", { name: "Send request" }).click();
  await page.getByText("Thanks, we got your request").waitFor();
  assert.equal(api.inserts[0].phone, "+447400123456");
  await page.close();

  const offline = await browser.newPage();
  await offline.route("**/widget/phone/**", (route) => route.abort("internetdisconnected"));
  const offlineApi = await openWidget(offline, "lang=en");
  const offlineForm = offline.locator(".leadloop-widget form");
  await offlineForm.getByLabel(/^Name/).fill("Ann");
  await offlineForm.getByLabel(/Mobile phone/).fill("+44 7400 123456");
  await offlineForm.getByRole("button", { name: "Send request" }).click();
  await offline.getByText("Thanks, we got your request").waitFor();
  assert.equal(offlineApi.inserts[0].phone, "+447400123456", "the database checks what the widget could not");
  await offline.close();
});

test("no serious axe-core (WCAG 2 AA) violations at 390 px and at desktop width, in both languages", async () => {
  for (const viewport of [{ width: 390, height: 844 }, { width: 1280, height: 900 }]) {
    for (const query of ["lang=en", "lang=es"]) {
      const context = await browser.newContext({ viewport, isMobile: viewport.width < 500, hasTouch: viewport.width < 500 });
      const page = await context.newPage();
      await openWidget(page, query);
      assert.deepEqual(await seriousViolations(page), [], `${query} at ${viewport.width}px`);
      // The error state too: every message tied to its field.
      await page.locator(".leadloop-widget form button[type=submit]").click();
      await page.locator(".leadloop-widget .err:not(:empty)").first().waitFor();
      assert.deepEqual(await seriousViolations(page), [], `${query} errors at ${viewport.width}px`);
      const box = await page.locator(".leadloop-widget form").boundingBox();
      assert.ok(box && box.width <= viewport.width, "the form fits the screen");
      await context.close();
    }
  }
});
