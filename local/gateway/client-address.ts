// Who the client is, as the platform tells its services: on Supabase, Cloudflare sets CF-Connecting-IP
// and Kong sets X-Real-IP to the address the request came from and appends it to X-Forwarded-For.
// Locally the gateway plays both, so whatever a client sends in these headers, the services (and the
// request.headers PostgREST hands to SQL, where lead intake reads the client address) see the peer.
import type { IncomingMessage } from "node:http";

/** The TCP peer, with IPv4-mapped IPv6 written as plain IPv4. */
export function peerAddress(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
}

/** Overwrites CF-Connecting-IP and X-Real-IP with the peer and appends it to X-Forwarded-For, in place. */
export function setClientAddress(req: IncomingMessage): void {
  const peer = peerAddress(req);
  if (!peer) return;
  const prior = req.headers["x-forwarded-for"];
  const chain = Array.isArray(prior) ? prior.join(", ") : prior;
  req.headers["cf-connecting-ip"] = peer;
  req.headers["x-real-ip"] = peer;
  req.headers["x-forwarded-for"] = chain && chain.trim() !== "" ? `${chain}, ${peer}` : peer;
}
