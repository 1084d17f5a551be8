// Where mail links send the browser back to (Auth allows the dashboard's own origin), and what a link
// that failed says: GoTrue puts errors in the fragment (#error=...&error_description=...) or the query.
export function authRedirect(path: "/auth/confirm" | "/auth/reset", origin = window.location.origin): string {
  return new URL(path, origin).toString();
}

export interface LinkResult {
  code: string | null;
  tokenHash: string | null;
  type: string | null;
  error: string | null;
}

export function readAuthLink(href: string): LinkResult {
  const url = new URL(href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ""));
  const get = (key: string) => url.searchParams.get(key) ?? hash.get(key);
  const error = get("error_description") ?? get("error");
  return {
    code: url.searchParams.get("code"),
    tokenHash: get("token_hash"),
    type: get("type"),
    error: error ? error.replace(/\+/g, " ") : null,
  };
}
