// pinnedFetch against a real server on loopback, reached through a host name that resolves nowhere: the
// connection goes to the pinned address only, the Host header keeps the URL's name, redirects come back as
// they are, and a body the caller stops reading is let go.
import { assertEquals, assertRejects } from "../_shared/testing/assert.ts";
import { pinnedFetch, type PinnedRequest } from "./pinned-fetch.ts";

interface Seen {
  host: string | null;
  method: string;
  body: string;
  signature: string | null;
}

async function withServer(respond: (path: string) => Response, run: (port: number, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push({ host: req.headers.get("host"), method: req.method, body: await req.text(), signature: req.headers.get("webhook-signature") });
    return respond(new URL(req.url).pathname);
  });
  try {
    await run(server.addr.port, seen);
  } finally {
    await server.shutdown();
  }
}

function request(body = '{"type":"lead.created"}'): PinnedRequest {
  return { method: "POST", headers: { "content-type": "application/json", "webhook-signature": "v1,abc" }, body, signal: AbortSignal.timeout(5000) };
}

Deno.test("the request goes to the pinned address, never to a new lookup of the name", async () => {
  await withServer(() => new Response("thanks", { status: 201, headers: { "x-receiver": "yes" } }), async (port, seen) => {
    // .invalid never resolves (RFC 6761): only the pinned address can have answered.
    const res = await pinnedFetch(`http://rebind.invalid:${port}/in`, request(), ["127.0.0.1"]);
    assertEquals([res.status, res.headers.get("x-receiver"), await res.text()], [201, "yes", "thanks"]);
    assertEquals(seen, [{ host: `rebind.invalid:${port}`, method: "POST", body: '{"type":"lead.created"}', signature: "v1,abc" }]);
  });
});

Deno.test("redirects are answered as they are, not followed; bodiless answers have no body", async () => {
  await withServer(
    (path) => path === "/moved" ? new Response(null, { status: 307, headers: { location: "http://127.0.0.1/elsewhere" } }) : new Response(null, { status: 204 }),
    async (port, seen) => {
      const moved = await pinnedFetch(`http://hooks.invalid:${port}/moved`, request(), ["127.0.0.1"]);
      assertEquals([moved.status, moved.headers.get("location")], [307, "http://127.0.0.1/elsewhere"]);
      await moved.body?.cancel();
      const empty = await pinnedFetch(`http://hooks.invalid:${port}/empty`, request(), ["127.0.0.1"]);
      assertEquals([empty.status, empty.body], [204, null]);
      assertEquals(seen.length, 2, "one request each: the redirect was not followed");
    },
  );
});

Deno.test("a large answer is read only as far as the caller wants", async () => {
  await withServer(() => new Response("x".repeat(4 * 1024 * 1024)), async (port) => {
    const res = await pinnedFetch(`http://big.invalid:${port}/`, request(), ["127.0.0.1"]);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assertEquals(first.done, false);
    await reader.cancel();
  });
});

Deno.test("no address, no request; an abort ends it", async () => {
  await assertRejects(() => pinnedFetch("http://nowhere.invalid/", request(), []), /no address/);
  await withServer(() => new Response("late"), async (port) => {
    const controller = new AbortController();
    controller.abort();
    await assertRejects(() => pinnedFetch(`http://hooks.invalid:${port}/`, { ...request(), signal: controller.signal }, ["127.0.0.1"]));
  });
});
