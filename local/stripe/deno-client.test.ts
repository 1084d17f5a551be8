// The edge functions will use `npm:stripe` under Deno (fetch HTTP client, Web Crypto): the same
// library, pointed at the emulator by host/port/protocol, must create checkout and portal
// sessions and verify a webhook the emulator signed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { projectRoot } from "../config.ts";
import { denoEnvironment } from "../stack.ts";
import { createPlans, startTestEmulator, startWebhookReceiver, type TestEmulator, type WebhookReceiver } from "./test-support.ts";

// The version package.json pins, so Deno runs the very library Node's tests use.
const stripeVersion = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies.stripe;

// Kept as text: the root tsconfig checks this folder for Node, where `Deno` and `npm:` do not exist.
const script = `
import Stripe from "npm:stripe@${stripeVersion}";
const input = JSON.parse(Deno.readTextFileSync(Deno.args[0]));
const url = new URL(input.url);
const stripe = new Stripe(input.secretKey, { host: url.hostname, port: Number(url.port), protocol: "http", httpClient: Stripe.createFetchHttpClient() });
const session = await stripe.checkout.sessions.create({
  mode: "subscription",
  line_items: [{ price: input.price, quantity: 1 }],
  customer: input.customer,
  success_url: "https://app.test/ok?session={CHECKOUT_SESSION_ID}",
  subscription_data: { metadata: { business_id: "deno" } },
});
const portal = await stripe.billingPortal.sessions.create({ customer: input.customer, return_url: "https://app.test/billing" });
let missing = "";
try { await stripe.subscriptions.retrieve("sub_missing"); } catch (error) { missing = error.type + " " + error.statusCode; }
const event = await stripe.webhooks.constructEventAsync(input.body, input.signature, input.secret, undefined, Stripe.createSubtleCryptoProvider());
let tampered = "";
try { await stripe.webhooks.constructEventAsync(input.body + " ", input.signature, input.secret, undefined, Stripe.createSubtleCryptoProvider()); } catch (error) { tampered = error.type; }
console.log(JSON.stringify({ session: session.url, portal: portal.url, missing, event: event.id, tampered }));
`;

let emu: TestEmulator;
let app: WebhookReceiver;
let dir: string;
before(async () => {
  emu = await startTestEmulator();
  app = await startWebhookReceiver(emu.stripe);
  await emu.control.addWebhookEndpoint({ url: `${app.url}/webhook`, secret: app.secret, enabledEvents: ["customer.created"] });
  dir = mkdtempSync(join(tmpdir(), "stripe-deno-"));
});
after(async () => {
  await emu?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

function runDeno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Asynchronous on purpose: the emulator answers from this same process.
    const child = spawn(join(projectRoot, "node_modules", ".bin", "deno"), args, { cwd: projectRoot, env: { ...process.env, ...denoEnvironment } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

test("npm:stripe under Deno talks to the emulator and verifies its webhook signatures", async () => {
  const { starter } = await createPlans(emu.stripe);
  const customer = await emu.stripe.customers.create({ email: "deno@example.test" });
  const [delivery] = await app.waitFor((d) => d.event.type === "customer.created");
  const inputFile = join(dir, "input.json");
  writeFileSync(inputFile, JSON.stringify({ url: emu.url, secretKey: emu.secretKey, price: starter.id, customer: customer.id, body: delivery.body, signature: delivery.signature, secret: app.secret }));
  const scriptFile = join(dir, "client.ts");
  writeFileSync(scriptFile, script);
  const { code, stdout, stderr } = await runDeno(["run", "--quiet", "--allow-net=127.0.0.1", `--allow-read=${dir}`, "--allow-env", scriptFile, inputFile]);
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.match(result.session, new RegExp(`^${emu.url}/c/pay/cs_test_`));
  assert.match(result.portal, new RegExp(`^${emu.url}/p/session/bps_`));
  assert.equal(result.missing, "StripeInvalidRequestError 404");
  assert.equal(result.event, delivery.event.id);
  assert.equal(result.tampered, "StripeSignatureVerificationError");
  const [session] = (await emu.stripe.checkout.sessions.list({ customer: customer.id })).data;
  assert.deepEqual(session.metadata, {});
  assert.equal(session.status, "open");
});
