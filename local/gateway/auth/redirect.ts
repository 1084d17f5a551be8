// Where Auth may send a browser after a mail link: GoTrue's redirect rules. site_url's own origin (any port
// on loopback hosts), loopback IP addresses, and additional_redirect_urls as globs; anything else falls back
// to site_url, so a link can never hand tokens to a foreign host.
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { AuthSettings } from "./settings.ts";

const DECIMAL_HOST = /^[0-9]+$/;
const REGULAR_HOST = /^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;

const globCache = new Map<string, RegExp>();
/** GoTrue compiles each allow-list entry as a glob with `.` and `/` as separators. */
function globToRegExp(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (re) return re;
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "*" && pattern[i + 1] === "*") {
      out += ".*";
      i++;
    } else if (ch === "*") out += "[^./]*";
    else if (ch === "?") out += "[^./]";
    else out += ch.replace(/[\\^$.+()[\]{}|]/g, "\\$&");
  }
  re = new RegExp(`^${out}$`);
  globCache.set(pattern, re);
  return re;
}

function isLoopbackIp(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1";
  return false;
}

export function isRedirectAllowed(settings: AuthSettings, redirectUrl: string): boolean {
  if (!redirectUrl) return false;
  let base: URL;
  let target: URL;
  try {
    base = new URL(settings.siteUrl);
    target = new URL(redirectUrl);
  } catch {
    return false;
  }
  // The host as written must be the host as parsed: numeric forms of addresses (2130706433, 0x7f000001),
  // backslashes and other spellings that parsers read differently are refused, as GoTrue's parser refuses them.
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(redirectUrl)?.[1];
  if (authority !== undefined) {
    const written = authority.slice(authority.lastIndexOf("@") + 1).replace(/:\d*$/, "").toLowerCase();
    if (written !== target.hostname) return false;
  }
  const isLocalhost = target.hostname === "localhost" || isLoopbackIp(target.hostname);
  if (base.hostname === target.hostname && base.protocol === target.protocol && (base.port === target.port || isLocalhost)) return true;
  const isHttp = target.protocol === "http:" || target.protocol === "https:";
  const host = target.hostname.replace(/^\[|\]$/g, "");
  if (DECIMAL_HOST.test(host)) return false;
  if (isIP(host)) return isLoopbackIp(host);
  if (isHttp && !REGULAR_HOST.test(host)) return false;
  const withoutFragment = redirectUrl.split("#")[0];
  return settings.additionalRedirectUrls.some((pattern) => globToRegExp(pattern).test(withoutFragment));
}

/** GoTrue's GetReferrer: redirect_to (query or header) if allowed, else the Referer if allowed, else site_url. */
export function referrer(settings: AuthSettings, req: IncomingMessage, url: URL, bodyRedirect?: unknown): string {
  const header = req.headers["redirect_to"];
  const candidates = [
    typeof header === "string" ? header : "",
    url.searchParams.get("redirect_to") ?? "",
    typeof bodyRedirect === "string" ? bodyRedirect : "",
  ];
  const requested = candidates.find((c) => c !== "") ?? "";
  if (isRedirectAllowed(settings, requested)) return requested;
  const ref = req.headers.referer;
  if (typeof ref === "string" && isRedirectAllowed(settings, ref)) return ref;
  return settings.siteUrl;
}
