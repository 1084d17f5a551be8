import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderWidgetDemo, startWebServer } from "./web-server.ts";

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), "leadloop-web-"));
  const webDist = join(dir, "web");
  const widgetDist = join(dir, "widget");
  const demo = join(dir, "demo");
  for (const d of [webDist, join(webDist, "assets"), widgetDist, demo]) mkdirSync(d, { recursive: true });
  writeFileSync(join(webDist, "index.html"), "<!doctype html><div id=root></div>");
  writeFileSync(join(webDist, "assets", "app-abc.js"), "console.log(1)");
  writeFileSync(join(widgetDist, "leadloop-widget.js"), "/*widget*/");
  writeFileSync(join(dir, "secret.txt"), "do not serve");
  writeFileSync(join(demo, "index.html"),
    '<script data-widget-id="__LEADLOOP_WIDGET_ID__" data-supabase-url="__LEADLOOP_SUPABASE_URL__" data-supabase-key="__LEADLOOP_SUPABASE_KEY__"></script>');
  return { webDist, widgetDist, widgetDemoDir: demo };
}

const runtime = { supabaseUrl: "http://127.0.0.1:55501", supabaseAnonKey: "anon.jwt.key", widgetId: "00000000-0000-4000-8000-000000000002" };

test("serves config, widget, filled demo page and the SPA with history fallback", async () => {
  const server = await startWebServer({ port: 0, ...fixture(), runtime });
  try {
    const config = await fetch(`${server.url}/config.json`);
    assert.equal(config.status, 200);
    assert.deepEqual(await config.json(), { supabaseUrl: runtime.supabaseUrl, supabaseAnonKey: runtime.supabaseAnonKey });

    const widget = await fetch(`${server.url}/widget/leadloop-widget.js`);
    assert.equal(widget.status, 200);
    assert.match(widget.headers.get("content-type")!, /javascript/);

    const demo = await (await fetch(`${server.url}/widget-demo.html`)).text();
    assert.match(demo, /data-widget-id="00000000-0000-4000-8000-000000000002"/);
    assert.match(demo, /data-supabase-key="anon\.jwt\.key"/);
    assert.doesNotMatch(demo, /__LEADLOOP_/);

    for (const route of ["/", "/leads/00000000-0000-4000-8000-000000000abc", "/settings"]) {
      const page = await fetch(server.url + route);
      assert.equal(page.status, 200, route);
      assert.match(await page.text(), /id=root/, route);
    }
    const asset = await fetch(`${server.url}/assets/app-abc.js`);
    assert.match(asset.headers.get("cache-control")!, /immutable/);
    assert.equal((await fetch(`${server.url}/assets/missing.js`)).status, 404);
    assert.equal((await fetch(`${server.url}/widget/..%2f..%2fsecret.txt`)).status, 404);
    assert.equal((await fetch(`${server.url}/..%2fsecret.txt`)).status, 404);
    assert.equal((await fetch(`${server.url}/config.json`, { method: "POST" })).status, 405);
  } finally {
    await server.close();
  }
});

test("renderWidgetDemo escapes values that land in HTML attributes", () => {
  const html = renderWidgetDemo('<x a="__LEADLOOP_SUPABASE_URL__">', { ...runtime, supabaseUrl: 'http://x/"><script>' });
  assert.equal(html, '<x a="http://x/&#34;&#62;&#60;script&#62;">');
});
