// Reads a Twilio webhook: POST form body, signature checked against the public URL.
import { BadRequestError, ForbiddenError, requireMethod, UnsupportedMediaTypeError } from "./http.ts";
import { isValidTwilioSignature } from "./twilio-signature.ts";
import type { TwilioWebhookEnv } from "./env.ts";

export function publicWebhookUrl(baseUrl: string, functionName: string, req: Request): string {
  // Only the query string comes from the request; scheme, host and path come from settings.
  return baseUrl.replace(/\/+$/, "") + "/" + functionName + new URL(req.url).search;
}

export async function readSignedTwilioForm(
  req: Request,
  env: TwilioWebhookEnv,
  functionName: string,
): Promise<Record<string, string>> {
  requireMethod(req, "POST");
  const type = req.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    throw new UnsupportedMediaTypeError("Twilio webhooks are application/x-www-form-urlencoded");
  }
  const raw = await req.text();
  const pairs = [...new URLSearchParams(raw)];
  const url = publicWebhookUrl(env.TWILIO_WEBHOOK_BASE_URL, functionName, req);
  if (!(await isValidTwilioSignature(env.TWILIO_AUTH_TOKEN, url, pairs, req.headers.get("x-twilio-signature")))) {
    throw new ForbiddenError("missing or invalid X-Twilio-Signature");
  }
  const form: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (k in form) throw new BadRequestError(`form field ${k} appears twice`);
    form[k] = v;
  }
  return form;
}
