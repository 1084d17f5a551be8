// Where Twilio delivers a business number's texts: the one place these URLs are written.
//
// - SmsUrl: twilio-inbound, with Twilio's connection overrides in the fragment. Twilio does not retry a
//   5xx by default (only a connection it could not make, once); `rc=3&rp=5xx,ct,rt` retries a 5xx, a
//   refused connection and a timeout three times, so a STOP that meets a database hiccup is not lost.
//   The fragment is never sent and is not part of the signed URL.
// - SmsFallbackUrl: twilio-inbound again, marked `?fallback=1` (signed with it, and visible in logs),
//   with the same overrides. Twilio requests it with the same MessageSid plus ErrorCode and ErrorUrl
//   once the primary's retries are spent: a last chance at the same idempotent handler (one row per
//   MessageSid), so a message delivered twice is stored once.
// - StatusCallback: twilio-status. On a number Twilio uses it for voice calls; SMS delivery statuses come
//   from the StatusCallback each send sets (sms-dispatch).

export const inboundConnectionOverrides = "rc=3&rp=5xx,ct,rt";

export interface NumberWebhooks {
  smsUrl: string;
  smsFallbackUrl: string;
  statusCallback: string;
}

export function numberWebhooks(webhookBaseUrl: string): NumberWebhooks {
  const base = webhookBaseUrl.replace(/\/+$/, "");
  return {
    smsUrl: `${base}/twilio-inbound#${inboundConnectionOverrides}`,
    smsFallbackUrl: `${base}/twilio-inbound?fallback=1#${inboundConnectionOverrides}`,
    statusCallback: `${base}/twilio-status`,
  };
}
