// webhook-deliver: woken by the database (pg_net, with the service key) when deliveries are due, and by the
// minute sweep for retries. Only the service role may call it: besides draining the outbox, a caller can move
// the schedule's clock ({"now": ISO time}, for tests that drive 24 hours of retries without waiting), which
// must never be in anyone else's hands.
import { z } from "zod";
import { BadRequestError, type Handler, json, requireMethod, UnauthorizedError, withErrors } from "../_shared/http.ts";
import { type DeliverDeps, deliverDue } from "./deliver.ts";

export const deliverRequestSchema = z.object({
  now: z.string().datetime({ offset: true }).optional(),
}).strict();

const MAX_BODY_BYTES = 1024;

export interface HandlerDeps extends Omit<DeliverDeps, "now"> {
  serviceRoleKey: string;
}

/** Constant-time comparison, so the key cannot be guessed from response times. */
function sameKey(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

async function readRequest(req: Request): Promise<z.infer<typeof deliverRequestSchema>> {
  const text = await req.text();
  if (text.length > MAX_BODY_BYTES) throw new BadRequestError("the body is too large");
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequestError("the body is not valid JSON");
  }
  return deliverRequestSchema.parse(body);
}

export function createDeliverHandler(deps: HandlerDeps): Handler {
  return withErrors("webhook-deliver", async (req) => {
    requireMethod(req, "POST");
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
    if (!sameKey(token, deps.serviceRoleKey)) {
      await req.body?.cancel();
      throw new UnauthorizedError("only the service role may run webhook deliveries");
    }
    const { now } = await readRequest(req);
    return json(await deliverDue({ ...deps, now: now ?? null }));
  });
}
