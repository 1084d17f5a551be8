// How long the local servers keep an idle keep-alive connection open. Node closes one after 5 s, while
// Deno's fetch (the edge functions) reuses idle connections for up to 90 s: a request sent on a connection
// the server is closing fails with "TypeError: fetch failed" (measured: half of the requests sent 5 s
// apart, and hundreds of sms-dispatch's RPCs in the intake benchmark). The server that closes first loses
// that race, so the servers the functions call keep idle connections longer than any client here does.
import type { Server } from "node:http";

export const IDLE_KEEP_ALIVE_MS = 120_000;

// Connections waiting to be accepted. Node's default (511) overflowed under a busy intake: the Twilio
// emulator's status callbacks each open a connection (as Twilio's do), the gateway's one event loop
// accepts them late, and the kernel dropped the overflow and reset connections the functions were using.
export const LISTEN_BACKLOG = 4096;

export function keepIdleConnections<T extends Server>(server: T): T {
  server.keepAliveTimeout = IDLE_KEEP_ALIVE_MS;
  // A request's headers may arrive on a connection that has been idle that long.
  server.headersTimeout = IDLE_KEEP_ALIVE_MS + 5_000;
  return server;
}
