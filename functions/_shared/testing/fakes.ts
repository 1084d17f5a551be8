// Test doubles for handler tests: an in-memory RPC and a scripted fetch.
import type { ConversationContext } from "../contracts.ts";
import { type LeadloopRpc, typedRpc } from "../rpc.ts";
import { computeTwilioSignature } from "../twilio-signature.ts";

export interface RpcCall {
  name: string;
  args: Record<string, unknown>;
}

export type RpcScript = Record<string, (args: Record<string, unknown>, callIndex: number) => unknown>;

/** Answers each RPC from `script`; records every call. Unscripted RPCs throw. */
export function fakeRpc(script: RpcScript): { rpc: LeadloopRpc; calls: RpcCall[]; callsTo: (name: string) => RpcCall[] } {
  const calls: RpcCall[] = [];
  const counters = new Map<string, number>();
  const rpc = typedRpc((name, args) => {
    calls.push({ name, args });
    const i = counters.get(name) ?? 0;
    counters.set(name, i + 1);
    const fn = script[name];
    if (!fn) return Promise.reject(new Error(`unexpected rpc ${name}`));
    try {
      return Promise.resolve(fn(args, i));
    } catch (err) {
      return Promise.reject(err);
    }
  });
  return { rpc, calls, callsTo: (name) => calls.filter((c) => c.name === name) };
}

export interface FetchCall {
  url: string;
  init: RequestInit;
}

/** A fetch that answers from `respond`, recording calls. */
export function fakeFetch(respond: (call: FetchCall, index: number) => Response | Promise<Response>) {
  const calls: FetchCall[] = [];
  const fn = ((input: string | URL | Request, init: RequestInit = {}) => {
    const call = { url: String(input instanceof Request ? input.url : input), init };
    calls.push(call);
    return Promise.resolve(respond(call, calls.length - 1));
  }) as typeof fetch;
  return { fetch: fn, calls };
}

/** A fetch that never answers until its AbortSignal fires. */
export const hangingFetch =
  ((_input: string | URL | Request, init: RequestInit = {}) =>
    new Promise<Response>((_resolve, reject) => {
      const signal = init.signal;
      signal?.addEventListener("abort", () => reject(signal.reason ?? new DOMException("aborted", "AbortError")));
    })) as typeof fetch;

export const webhookEnv = {
  TWILIO_AUTH_TOKEN: "test-auth-token",
  TWILIO_WEBHOOK_BASE_URL: "https://abc.supabase.co/functions/v1",
};

/** A Twilio-style signed webhook request, as Twilio would send it to the public URL. */
export async function signedTwilioRequest(
  functionName: string,
  fields: Record<string, string>,
  opts: { query?: string; internalUrl?: string; signatureUrl?: string; token?: string; signature?: string | null } = {},
): Promise<Request> {
  const query = opts.query ?? "";
  const publicUrl = `${webhookEnv.TWILIO_WEBHOOK_BASE_URL}/${functionName}${query}`;
  const body = new URLSearchParams(fields);
  const signature = opts.signature === undefined
    ? await computeTwilioSignature(
      opts.token ?? webhookEnv.TWILIO_AUTH_TOKEN,
      opts.signatureUrl ?? publicUrl,
      Object.entries(fields),
    )
    : opts.signature;
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (signature !== null) headers["X-Twilio-Signature"] = signature;
  // The function sees an internal URL (behind the gateway), never the public one.
  const url = (opts.internalUrl ?? `http://127.0.0.1:9999/${functionName}`) + query;
  return new Request(url, { method: "POST", headers, body });
}

export function makeContext(overrides: Partial<ConversationContext> = {}): ConversationContext {
  return {
    conversation_id: "11111111-1111-4111-8111-111111111111",
    version: 3,
    status: "active",
    turn_count: 1,
    question_count: 0,
    max_questions: 3,
    locale: "en",
    slots: { need: null, timing: null, location: null, constraints: [] },
    lead: {
      name: "Dana Whitfield",
      phone: "+15125550101",
      email: null,
      message: "Kitchen sink is clogged",
      source_url: null,
      created_at: "2026-11-26T14:59:00Z",
    },
    business: { name: "Lone Star Plumbing", timezone: "America/Chicago", default_locale: "en" },
    transcript: [
      {
        direction: "outbound",
        kind: "text_back",
        body:
          "Hi Dana, this is Lone Star Plumbing. Thanks for your request! When do you need this done, and where (address or area)? Reply STOP to opt out.",
        asks: ["timing", "location"],
        created_at: "2026-11-26T15:00:00Z",
      },
    ],
    ...overrides,
  };
}

/** What the platform-only functions accept in tests, and the headers of a caller that has it. */
export const serviceCredentials = { serviceRoleKey: "test-service-role-jwt", secretKeys: ["sb_secret_test_key"] };
export const serviceHeaders = { Authorization: "Bearer test-service-role-jwt" };
