// webhook-deliver: woken by the database (pg_net, with the service key) when deliveries are due, and by the
// minute sweep for retries. Only the service role may call it: besides draining the outbox, a caller can move
// the schedule's clock ({"now": ISO time}, for tests that drive 24 hours of retries without waiting), which
// must never be in anyone else's hands.
import { z } from "zod";
import { BadRequestError, type Handler, json, requireMethod, withErrors } from "../_shared/http.ts";
import { requireServiceRole, type ServiceCredentials } from "../_shared/service-auth.ts";
import { type DeliverDeps, deliverDue } from "./deliver.ts";

export const deliverRequestSchema = z.object({
  now: z.string().datetime({ offset: true }).optional(),
}).strict();

const MAX_BODY_BYTES = 1024;

export interface HandlerDeps extends Omit<DeliverDeps, "now"> {
  credentials: ServiceCredentials;
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
    await requireServiceRole(req, deps.credentials);
    requireMethod(req, "POST");
    const { now } = await readRequest(req);
    return json(await deliverDue({ ...deps, now: now ?? null }));
  });
}
