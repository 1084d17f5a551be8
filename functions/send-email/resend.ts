// Resend's HTTP API (RESEND_API_KEY; RESEND_API_URL for another host): POST /emails with the outbox id as
// Idempotency-Key, so a retry after a lost answer is not delivered twice (Resend keeps keys 24 hours).
import { AUTOMATED_HEADERS, describe, formatSender, type Mailer, type OutgoingEmail, type Sender, type SendOutcome } from "./mailer.ts";

export interface ResendSettings {
  apiKey: string;
  apiUrl: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** How much of an answer is read: enough for Resend's `{id}` or `{name, message}`. */
const MAX_ANSWER_CHARS = 16_384;

async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  let text = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    text += decoder.decode(r.value, { stream: true });
    if (text.length >= MAX_ANSWER_CHARS) {
      await reader.cancel();
      break;
    }
  }
  return text.slice(0, MAX_ANSWER_CHARS);
}

function answerMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { name?: unknown; message?: unknown };
    return [parsed.name, parsed.message].filter((v) => typeof v === "string").join(": ") || text;
  } catch {
    return text;
  }
}

/**
 * 2xx: sent. 429, 5xx, 401/403 (a key or domain problem the operator can fix), 409 (the same key still
 * in flight) and network failures: retry. Other 4xx (a refused address or message): final.
 */
export function createResendMailer(settings: ResendSettings, sender: Sender): Mailer {
  const doFetch = settings.fetch ?? fetch;
  const endpoint = `${settings.apiUrl.replace(/\/+$/, "")}/emails`;
  return {
    provider: "resend",
    async send(email: OutgoingEmail): Promise<SendOutcome> {
      let res: Response;
      try {
        res = await doFetch(endpoint, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${settings.apiKey}`,
            "Content-Type": "application/json",
            "Idempotency-Key": `leadloop-email/${email.id}`,
          },
          body: JSON.stringify({
            from: formatSender(sender),
            to: [email.to],
            subject: email.subject,
            text: email.text,
            html: email.html,
            headers: { ...AUTOMATED_HEADERS },
          }),
          redirect: "error",
          signal: AbortSignal.timeout(settings.timeoutMs),
        });
      } catch (error) {
        return { ok: false, retryable: true, error: `resend: ${describe(error, 900)}` };
      }
      const text = await readCapped(res).catch(() => "");
      if (res.ok) {
        let id: unknown = null;
        try {
          id = (JSON.parse(text) as { id?: unknown }).id;
        } catch {
          // accepted without a readable id: still sent
        }
        return { ok: true, providerMessageId: typeof id === "string" ? id.slice(0, 300) : null };
      }
      const retryable = res.status === 429 || res.status >= 500 || [401, 403, 408, 409].includes(res.status);
      return { ok: false, retryable, error: `resend ${res.status}: ${describe(answerMessage(text), 900)}` };
    },
    close: () => undefined,
  };
}
