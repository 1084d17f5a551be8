// Twilio's webhook connection overrides: settings carried in a webhook URL's fragment
// (`https://app.example/sms#rc=3&rp=5xx,ct,rt&ct=2000&rt=5000`). The fragment is never sent and is
// not part of the URL Twilio signs; it only changes how Twilio connects, waits and retries.
//
// Ranges and defaults as Twilio documents them (docs/usage/webhooks/webhooks-connection-overrides):
// ct 100-10000 ms (5000), rt 100-15000 ms (15000), tt 100-15000 ms (15000), rc 0-5 (1),
// rp any of 4xx, 5xx, ct, rt, all (default ct: only a connection that could not be made is retried,
// so by default a 5xx or a slow answer is never retried). `e` (edge) and `sni` are accepted and
// have no effect here.

export type RetryReason = "4xx" | "5xx" | "ct" | "rt";

export interface ConnectionOverrides {
  connectTimeoutMs: number;
  readTimeoutMs: number;
  totalTimeMs: number;
  retryCount: number;
  retryOn: ReadonlySet<RetryReason>;
}

export interface ParsedWebhookUrl {
  /** What is requested and signed: the configured URL without its fragment. */
  url: string;
  overrides: ConnectionOverrides;
  /** The override that cannot be honoured (Twilio fails the request with this code, 11243 for rp). */
  invalid?: { code: number; message: string };
}

const reasons: readonly RetryReason[] = ["4xx", "5xx", "ct", "rt"];

const numeric = {
  ct: { min: 100, max: 10_000 },
  rt: { min: 100, max: 15_000 },
  tt: { min: 100, max: 15_000 },
  rc: { min: 0, max: 5 },
} as const;

/**
 * Splits a configured webhook URL into the URL Twilio requests and its connection settings.
 * `readTimeoutMs` is the emulator's own default read timeout (Twilio's 15 s unless a test shortens it).
 */
export function parseWebhookUrl(configured: string, defaults: { readTimeoutMs: number }): ParsedWebhookUrl {
  const hashAt = configured.indexOf("#");
  const url = hashAt === -1 ? configured : configured.slice(0, hashAt);
  const overrides: ConnectionOverrides = {
    connectTimeoutMs: 5_000,
    readTimeoutMs: defaults.readTimeoutMs,
    totalTimeMs: Math.max(15_000, defaults.readTimeoutMs),
    retryCount: 1,
    retryOn: new Set<RetryReason>(["ct"]),
  };
  if (hashAt === -1) return { url, overrides };
  const params = new URLSearchParams(configured.slice(hashAt + 1));
  let invalid: ParsedWebhookUrl["invalid"];
  for (const [key, range] of Object.entries(numeric) as [keyof typeof numeric, { min: number; max: number }][]) {
    const raw = params.get(key);
    if (raw === null) continue;
    // Out of range or not a number: the emulator keeps the value inside Twilio's documented range.
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    const clamped = Math.min(range.max, Math.max(range.min, Math.round(value)));
    if (key === "ct") overrides.connectTimeoutMs = clamped;
    if (key === "rt") overrides.readTimeoutMs = clamped;
    if (key === "tt") overrides.totalTimeMs = clamped;
    if (key === "rc") overrides.retryCount = clamped;
  }
  const policy = params.get("rp");
  if (policy !== null) {
    const wanted = policy.split(",").map((p) => p.trim().toLowerCase()).filter(Boolean);
    const unknown = wanted.filter((p) => p !== "all" && !reasons.includes(p as RetryReason));
    if (wanted.length === 0 || unknown.length > 0) {
      invalid = { code: 11243, message: `HTTP retry policy is invalid: rp=${policy}` };
    } else {
      overrides.retryOn = new Set(wanted.includes("all") ? reasons : (wanted as RetryReason[]));
    }
  }
  return { url, overrides, ...(invalid ? { invalid } : {}) };
}

/** The fragment of a configured URL, for display ("" when there is none). */
export function overridesText(configured: string | null): string {
  if (!configured) return "";
  const hashAt = configured.indexOf("#");
  return hashAt === -1 ? "" : configured.slice(hashAt + 1);
}
