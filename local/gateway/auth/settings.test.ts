// config.toml's [auth] as the local Auth reads it, GoTrue's redirect rules and the template subset, without a
// running stack: the project's own file, and small files written for one case each.
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { instanceConfig } from "../../config.ts";
import { isRedirectAllowed } from "./redirect.ts";
import { loadAuthSettings, parseGoDuration, type AuthSettings } from "./settings.ts";
import { checkTemplate, renderTemplate, type TemplateData } from "./templates.ts";
import { passwordWeakness } from "./users.ts";

const dev = instanceConfig("dev");

function settingsFrom(toml: string, files: Record<string, string> = {}): AuthSettings {
  const root = mkdtempSync(join(tmpdir(), "auth-settings-"));
  mkdirSync(join(root, "supabase"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  writeFileSync(join(root, "supabase", "config.toml"), toml);
  return loadAuthSettings(dev, join(root, "supabase", "config.toml"));
}

test("the project's config.toml: confirmations, a 10-character mixed policy, limits, secure password change, templates", () => {
  const s = loadAuthSettings(dev);
  assert.equal(s.siteUrl, "http://127.0.0.1:54323");
  assert.equal(s.email.confirmations, true);
  assert.equal(s.email.doubleConfirmChanges, true);
  assert.equal(s.email.securePasswordChange, true);
  assert.equal(s.email.maxFrequencySeconds, 60);
  assert.equal(s.email.otpExpirySeconds, 3600);
  assert.equal(s.password.minLength, 10);
  assert.equal(s.password.requiredCharacters.length, 3);
  assert.deepEqual(s.rateLimit, { emailSentPerHour: 100, tokenRefresh: 150, signInSignUps: 30, tokenVerifications: 30 });
  assert.deepEqual(Object.keys(s.email.templates).sort(), ["confirmation", "email_change", "magic_link", "reauthentication", "recovery"]);
  for (const t of Object.values(s.email.templates)) assert.match(t!.content!, /\{\{ \.Token \}\}/, "each template offers the code too");
  assert.deepEqual(s.smtp, { host: "127.0.0.1", port: 54328 });
});

test("another instance's loopback URLs follow its port base; other URLs stay", () => {
  const other = { ...dev, ports: { ...dev.ports, gateway: 57501, smtp: 57508 } };
  const s = loadAuthSettings(other);
  assert.equal(s.siteUrl, "http://127.0.0.1:57503");
  assert.ok(s.additionalRedirectUrls.includes("http://localhost:57503/**"));
  const custom = settingsFrom(`[auth]\nsite_url = "https://app.leadloop.example"\nadditional_redirect_urls = ["http://localhost:3000"]\n`);
  assert.equal(custom.siteUrl, "https://app.leadloop.example");
  assert.deepEqual(custom.additionalRedirectUrls, ["http://localhost:3000"]);
});

test("defaults are the CLI's when config.toml says nothing; wrong values are refused", () => {
  const s = settingsFrom("[auth]\n");
  assert.equal(s.email.confirmations, false);
  assert.equal(s.password.minLength, 6);
  assert.deepEqual(s.password.requiredCharacters, []);
  assert.deepEqual(s.email.templates, {});
  assert.throws(() => settingsFrom(`[auth]\npassword_requirements = "emoji"\n`), /unknown password_requirements/);
  assert.throws(() => settingsFrom(`[auth]\nminimum_password_length = "ten"\n`), /must be a number/);
  assert.throws(() => settingsFrom(`[auth.email]\nmax_frequency = "soon"\n`), /invalid duration/);
  assert.throws(() => settingsFrom(`[auth.email.template.welcome]\nsubject = "x"\n`), /unknown email template/);
});

test("templates: relative to the repository, only field references, escaped", () => {
  const s = settingsFrom(
    `[auth.email.template.confirmation]\nsubject = "Hi {{ .Data.name }}"\ncontent_path = "./mine.html"\n`,
    { "mine.html": `<p>{{ .Data.name }}: {{ .Token }} <a href="{{ .ConfirmationURL }}">go</a></p>` },
  );
  assert.equal(s.email.templates.confirmation?.subject, "Hi {{ .Data.name }}");
  const data: TemplateData = {
    SiteURL: "http://site",
    ConfirmationURL: "http://a/verify?token=x&type=signup",
    Email: "a@b.c",
    NewEmail: "",
    Token: "123456",
    TokenHash: "x",
    RedirectTo: "http://site",
    SendingTo: "a@b.c",
    Data: { name: `<script>"Sam"</script>` },
  };
  assert.equal(
    renderTemplate(s.email.templates.confirmation!.content!, data),
    `<p>&lt;script&gt;&#34;Sam&#34;&lt;/script&gt;: 123456 <a href="http://a/verify?token=x&amp;type=signup">go</a></p>`,
  );
  assert.throws(() => checkTemplate("{{ if .Token }}x{{ end }}", "t"), /unsupported template action/);
  assert.throws(() => checkTemplate("{{ .Password }}", "t"), /unsupported template action/);
  assert.throws(() => settingsFrom(`[auth.email.template.recovery]\ncontent_path = "./bad.html"\n`, { "bad.html": "{{ range .Data }}{{ end }}" }), /bad\.html/);
});

test("Go durations as config.toml writes them", () => {
  assert.equal(parseGoDuration("60s"), 60);
  assert.equal(parseGoDuration("1m30s"), 90);
  assert.equal(parseGoDuration("1h"), 3600);
  assert.equal(parseGoDuration("500ms"), 0.5);
  assert.equal(parseGoDuration("0"), 0);
  assert.throws(() => parseGoDuration("60"));
  assert.throws(() => parseGoDuration("1d"));
});

test("redirect rules: site origin, loopback, globs; never a foreign or disguised host", () => {
  const s = { ...loadAuthSettings(dev), additionalRedirectUrls: ["https://*.leadloop.example/auth/*", "myapp://callback", "https://docs.leadloop.example/**"] };
  const allowed = [
    "http://127.0.0.1:54323/",
    "http://127.0.0.1:54323/a/b?c=d#e",
    "http://127.0.0.1:9999/other-port-on-loopback",
    "http://[::1]:3000/",
    "https://app.leadloop.example/auth/callback",
    "https://docs.leadloop.example/a/b/c",
    "myapp://callback",
  ];
  const refused = [
    "",
    "https://evil.example/",
    "https://app.leadloop.example/other/path",
    "https://a.b.leadloop.example/auth/callback",
    "https://app.leadloop.example/auth/callback/deeper",
    "https://leadloop.example.evil.example/auth/x",
    "http://192.168.1.10/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://127.0.0.1@evil.example/",
    "http://evil.example\\@127.0.0.1/",
    "javascript:alert(1)",
    "not a url",
  ];
  for (const u of allowed) assert.ok(isRedirectAllowed(s, u), `allowed ${u}`);
  for (const u of refused) assert.ok(!isRedirectAllowed(s, u), `refused ${u}`);
});

test("password policy: GoTrue's reasons and message", () => {
  const s = loadAuthSettings(dev);
  assert.equal(passwordWeakness(s, "Good-passw0rd"), undefined);
  assert.deepEqual(passwordWeakness(s, "Sh0rt")?.reasons, ["length"]);
  assert.deepEqual(passwordWeakness(s, "no-upper-or-digit")?.reasons, ["characters"]);
  assert.deepEqual(passwordWeakness(s, "x")?.reasons, ["length", "characters"]);
  // Go counts bytes: five two-byte letters are ten bytes.
  assert.equal(passwordWeakness(s, "Éé1ééé")?.reasons.includes("length"), false);
});
