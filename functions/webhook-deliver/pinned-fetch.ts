// The request goes to the addresses checkTarget approved, not to whatever the name resolves to a moment later:
// fetch would look the host up again, and a DNS answer that changes between the check and the connection (DNS
// rebinding, TTL 0) would send the webhook to a private address after all. node:http(s) takes a `lookup`
// function, so the connection is pinned while the Host header, TLS SNI and certificate check still use the
// URL's host name. Never follows redirects (node:http has no such feature).
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";

export interface PinnedRequest {
  method: "POST";
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** Sends a request to `url` over a connection to one of `addresses`; fetch-shaped so tests can pass a fake fetch. */
export type PinnedFetch = (url: string, init: PinnedRequest, addresses: string[]) => Promise<Response>;

type LookupCallback = (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;

/** Statuses whose Response may carry no body. */
const NULL_BODY = new Set([204, 205, 304]);

export const pinnedFetch: PinnedFetch = (url, init, addresses) => {
  const target = new URL(url);
  const pinned = addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  if (pinned.length === 0) return Promise.reject(new Error("no address to connect to"));
  const lookup = (_host: string, options: { all?: boolean } | number | undefined, callback: LookupCallback) => {
    if (typeof options === "object" && options?.all) callback(null, pinned);
    else callback(null, pinned[0].address, pinned[0].family);
  };
  const client = target.protocol === "https:" ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const req = client.request(target, { method: init.method, headers: init.headers, lookup, signal: init.signal, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      try {
        if (NULL_BODY.has(status)) {
          res.destroy();
          resolve(new Response(null, { status, headers }));
        } else {
          resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers }));
        }
      } catch (err) {
        res.destroy();
        reject(err); // a status outside 200-599 (an interim answer): a broken receiver
      }
    });
    req.on("error", reject);
    req.end(init.body);
  });
};
