// send-email: woken by the database (pg_net, with the service key) when emails are due, and by the minute
// sweep for retries. Only the service role may call it: besides draining the outbox, the caller can move
// the outbox's clock ({"now": ISO time}, so tests drive a day of retries without waiting), which must never
// be in anyone else's hands.
import { z } from "zod";
import { BadRequestError, type Handler, json, readText, requireMethod, withErrors } from "../_shared/http.ts";
import { requireServiceRole, type ServiceCredentials } from "../_shared/service-auth.ts";
import { type DrainDeps, drainEmails } from "./drain.ts";

export const sendEmailRequestSchema = z.object({
  now: z.string().datetime({ offset: true }).optional(),
}).strict();

export interface HandlerDeps extends Omit<DrainDeps, "now"> {
  /** Who may call it: the service role only. */
  credentials: ServiceCredentials;
}

export function createSendEmailHandler(deps: HandlerDeps): Handler {
  return withErrors("send-email", async (req) => {
    requireMethod(req, "POST");
    try {
      await requireServiceRole(req, deps.credentials);
    } catch (error) {
      await req.body?.cancel();
      throw error;
    }
    const text = await readText(req, 1024);
    let body: unknown = {};
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        throw new BadRequestError("the body is not valid JSON");
      }
    }
    const { now } = sendEmailRequestSchema.parse(body);
    return json(await drainEmails({ ...deps, now: now ?? null }));
  });
}
