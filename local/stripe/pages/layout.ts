// Shared HTML for the emulator's hosted pages (checkout, portal, invoice): escaping, the page
// frame, the card fields and reading a posted form. Server-rendered forms, so the pages work
// without JavaScript and every control is a labelled native element.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CardEntry } from "../cards.ts";

export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Tagged template that escapes every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((value, i) => {
    const text = Array.isArray(value) ? value.map((v) => (v instanceof Html ? v.text : escapeHtml(v))).join("") : value instanceof Html ? value.text : escapeHtml(value);
    out += text + strings[i + 1];
  });
  return new Html(out);
}

export function date(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

const styles = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1f36;background:#f6f8fa}
main{max-width:30rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid #d5dbe1;border-radius:8px;padding:1rem;margin:0 0 1rem}
.test{display:inline-block;background:#ffde92;color:#5c3b00;border-radius:4px;padding:0 .4rem;font-size:.8rem;font-weight:600}
.amount{font-size:2rem;font-weight:600;margin:.25rem 0}
.muted{color:#4f566b}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input{width:100%;font:inherit;padding:.6rem .7rem;border:1px solid #8792a2;border-radius:6px;background:#fff;color:#1a1f36}
input[aria-invalid=true]{border-color:#b3093c}
.row{display:flex;gap:.75rem}.row>div{flex:1}
button{font:inherit;font-weight:600;border:0;border-radius:6px;padding:.7rem 1rem;cursor:pointer;background:#0a2540;color:#fff}
button.pay{width:100%;margin-top:1.25rem;background:#533afd}
button.secondary{background:#fff;color:#0a2540;border:1px solid #0a2540}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
a{color:#1d4ed8}
.error{color:#8a0a2e;background:#fff0f3;border:1px solid #e5a0b0;border-radius:6px;padding:.6rem .75rem;margin:.75rem 0}
.notice{color:#0b4d2c;background:#effaf3;border:1px solid #8fd3ab;border-radius:6px;padding:.6rem .75rem;margin:.75rem 0}
.hint{font-size:.85rem;color:#4f566b;margin:.5rem 0 0}
ul.plain{list-style:none;padding:0;margin:0}ul.plain li{padding:.5rem 0;border-top:1px solid #e3e8ee}ul.plain li:first-child{border-top:0}
form.inline{display:inline}
`;

export function page(title: string, body: Html): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${styles}</style>
</head>
<body>
<main>
${body.text}
</main>
</body>
</html>`;
}

export function sendHtml(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
  });
  res.end(text);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, "cache-control": "no-store" });
  res.end();
}

export async function readForm(req: IncomingMessage, limit = 20_000): Promise<URLSearchParams> {
  let body = "";
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error("form too large");
  }
  return new URLSearchParams(body);
}

export interface CardFormValues {
  number?: string;
  expiry?: string;
  name?: string;
  email?: string;
}

/** Card number, expiry and CVC, each labelled; `error` is announced and tied to the card number. */
export function cardFields(values: CardFormValues, error: string | null): Html {
  const invalid = error ? "true" : "false";
  return html`
<div id="card-error" role="alert" class="${error ? "error" : ""}">${error ?? ""}</div>
<label for="cardnumber">Card number</label>
<input id="cardnumber" name="cardnumber" inputmode="numeric" autocomplete="cc-number" placeholder="1234 1234 1234 1234" required
  value="${values.number ?? ""}" aria-invalid="${invalid}" aria-describedby="card-error card-hint"${error ? new Html(" autofocus") : ""}>
<div class="row">
  <div><label for="expiry">Expiration (MM / YY)</label>
  <input id="expiry" name="expiry" autocomplete="cc-exp" placeholder="MM / YY" required value="${values.expiry ?? ""}"></div>
  <div><label for="cvc">Security code (CVC)</label>
  <input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC" required></div>
</div>
<p class="hint" id="card-hint">Test mode: 4242 4242 4242 4242 pays; 4000 0000 0000 0341 is saved but its charges fail; 4000 0000 0000 0002 is declined. Any future date and any CVC.</p>`;
}

/** Reads the posted card fields; a malformed expiry becomes month 0 so validation explains it. */
export function cardEntry(form: URLSearchParams): CardEntry {
  const expiry = (form.get("expiry") ?? "").trim();
  const m = /^(\d{1,2})\s*\/?\s*(\d{2}|\d{4})$/.exec(expiry);
  return {
    number: form.get("cardnumber") ?? "",
    expMonth: m ? Number(m[1]) : 0,
    expYear: m ? Number(m[2]) : 0,
    cvc: (form.get("cvc") ?? "").trim(),
  };
}
