// CORS for functions the dashboard calls from the browser (supabase.functions.invoke): the preflight
// is answered here (the gateway lets OPTIONS through without a JWT) and every answer carries the
// headers, errors included, so the browser shows the function's message instead of a CORS failure.
import type { Handler } from "./http.ts";

export const corsHeaders: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type",
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
  "Access-Control-Max-Age": "86400",
};

export function withCors(handler: Handler): Handler {
  return async (req) => {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: corsHeaders });
    const res = await handler(req);
    const headers = new Headers(res.headers);
    for (const [name, value] of Object.entries(corsHeaders)) headers.set(name, value);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}
