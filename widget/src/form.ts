// Renders the lead form into a shadow root and drives it: loading -> ready -> sending -> done,
// with one request in flight at most so a double click or an impatient retry never saves twice.
import {
  browserTimeZone,
  createRestClient,
  insertLead,
  loadWidgetConfig,
  type RestClient,
  type SubmitOutcome,
  type WidgetConfig,
} from "./api.ts";
import { MESSAGES, resolveLocale, type Messages } from "./i18n.ts";
import type { PhoneRules } from "./phone.ts";
import { WIDGET_CSS } from "./styles.ts";
import { validateLeadForm, LIMITS, type FieldErrors, type FieldKey, type FieldSpec } from "./validation.ts";

export interface MountOptions {
  widgetId: string;
  supabaseUrl: string;
  supabaseKey: string;
  /** Where to render; a shadow root is attached to it. */
  host: HTMLElement;
  /** The language to speak ("es", "es-MX", ...); the page's <html lang> when not given or not spoken here. */
  locale?: string;
  /** Phone number rules; the script's own when not given. */
  phoneRules?: PhoneRules;
  /** The page the lead came from (defaults to location.href at submit time). */
  sourceUrl?: () => string;
  fetch?: typeof fetch;
  /** Gives up on a hung request after this long so the visitor can retry. */
  requestTimeoutMs?: number;
}

type Attrs = Record<string, string | boolean | number | undefined>;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === "class") el.className = String(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child != null) el.append(child);
  return el;
}

const INPUT_TYPES: Record<FieldKey, { type: string; autocomplete: string; inputmode?: string }> = {
  name: { type: "text", autocomplete: "name" },
  phone: { type: "tel", autocomplete: "tel", inputmode: "tel" },
  email: { type: "email", autocomplete: "email", inputmode: "email" },
  message: { type: "text", autocomplete: "off" },
};

let instanceCounter = 0;

export class LeadForm {
  private readonly root: ShadowRoot;
  private readonly shell: HTMLElement;
  private readonly client: RestClient;
  private readonly prefix = `ll${++instanceCounter}`;
  private readonly t: Messages;
  private config: WidgetConfig | null = null;
  private inFlight = false;
  private done = false;

  constructor(private readonly options: MountOptions & { phoneRules: PhoneRules }) {
    this.t = MESSAGES[resolveLocale(options.locale, options.host.ownerDocument.documentElement.lang)];
    this.client = createRestClient(options.supabaseUrl, options.supabaseKey, options.fetch);
    this.root = options.host.shadowRoot ?? options.host.attachShadow({ mode: "open" });
    this.root.replaceChildren(h("style", {}, WIDGET_CSS));
    // lang: a Spanish form on an English page is read out in Spanish (WCAG 3.1.2).
    this.shell = h("div", { class: "ll", part: "container", lang: this.t.locale });
    this.root.append(this.shell);
  }

  async start(): Promise<void> {
    const t = this.t;
    this.shell.replaceChildren(h("p", { class: "status", role: "status" }, t.loading));
    const result = await loadWidgetConfig(this.client, this.options.widgetId, t.locale);
    if (result.kind === "ok") {
      this.config = result.config;
      // Fetch the default country's phone rules while the visitor types (nothing to fetch for +1).
      void this.options.phoneRules.prepare("", result.config.defaultCountry);
      this.renderForm(result.config);
    } else if (result.kind === "inactive") {
      console.error(`[leadloop] widget ${this.options.widgetId} is unknown or inactive`);
      this.shell.replaceChildren(h("p", { class: "status", role: "status" }, t.unavailable));
    } else {
      console.error(`[leadloop] could not load widget config: ${result.detail}`);
      const retry = h("button", { type: "button", class: "secondary" }, t.tryAgain);
      retry.addEventListener("click", () => void this.start());
      this.shell.replaceChildren(h("div", { class: "alert error", role: "alert" }, t.loadFailed), retry);
    }
  }

  private id(name: string): string {
    return `${this.prefix}-${name}`;
  }

  private renderForm(config: WidgetConfig): void {
    const t = this.t;
    const form = h("form", { novalidate: true, "aria-labelledby": this.id("title") });
    const alert = h("div", { class: "alert error", id: this.id("alert"), role: "alert", "aria-live": "assertive" });
    form.append(
      h("h2", { id: this.id("title") }, t.title(config.businessName)),
      h("p", { class: "sub" }, t.intro),
      alert,
    );
    for (const field of config.fields) form.append(this.renderField(field));

    const consentId = this.id("consent");
    // Consent is opt-in: unchecked by default and never required to submit.
    form.append(
      h("div", { class: "consent" },
        h("input", { type: "checkbox", id: consentId, name: "sms_consent" }),
        h("label", { for: consentId }, config.consentText),
      ),
    );
    // Bots fill every input; people never see this one.
    form.append(
      h("div", { class: "hp", "aria-hidden": "true" },
        h("label", { for: this.id("website") }, t.honeypot),
        h("input", { type: "text", id: this.id("website"), name: "website", tabindex: -1, autocomplete: "off" }),
      ),
    );
    const submit = h("button", { type: "submit" }, t.send);
    form.append(submit, h("p", { class: "status", role: "status", "aria-live": "polite", id: this.id("status") }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit(form);
    });
    this.shell.replaceChildren(form);
  }

  private renderField(field: FieldSpec): HTMLElement {
    const inputId = this.id(field.key);
    const errorId = this.id(`${field.key}-error`);
    const kind = INPUT_TYPES[field.key];
    const common: Attrs = {
      id: inputId,
      name: field.key,
      autocomplete: kind.autocomplete,
      required: field.required,
      "aria-required": field.required ? "true" : undefined,
      "aria-describedby": errorId,
      maxlength: field.key === "message" ? LIMITS.message : LIMITS[field.key],
    };
    const control = field.key === "message"
      ? h("textarea", { ...common, rows: 4 })
      : h("input", { ...common, type: kind.type, inputmode: kind.inputmode });
    return h("div", { class: "field" },
      h("label", { class: "lbl", for: inputId },
        field.label ?? this.t.labels[field.key], field.required ? null : h("span", { class: "opt" }, this.t.optional)),
      control,
      h("div", { class: "err", id: errorId, "aria-live": "polite" }),
    );
  }

  private value(form: HTMLFormElement, name: string): string {
    const el = form.elements.namedItem(name);
    return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.value : "";
  }

  private showErrors(errors: FieldErrors, summary: string | null): void {
    const config = this.config!;
    let first: HTMLElement | null = null;
    for (const field of config.fields) {
      const message = errors[field.key] ?? "";
      const input = this.root.getElementById(this.id(field.key));
      const errorEl = this.root.getElementById(this.id(`${field.key}-error`));
      if (errorEl) errorEl.textContent = message;
      if (input) {
        if (message) {
          input.setAttribute("aria-invalid", "true");
          first ??= input;
        } else input.removeAttribute("aria-invalid");
      }
    }
    const alert = this.root.getElementById(this.id("alert"));
    if (alert) alert.textContent = summary ?? "";
    first?.focus();
  }

  private setBusy(form: HTMLFormElement, busy: boolean, status: string): void {
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (button) {
      button.disabled = busy;
      button.textContent = busy ? this.t.sending : this.t.send;
    }
    form.setAttribute("aria-busy", busy ? "true" : "false");
    const statusEl = this.root.getElementById(this.id("status"));
    if (statusEl) statusEl.textContent = status;
  }

  async submit(form: HTMLFormElement): Promise<SubmitOutcome | null> {
    if (this.inFlight || this.done || !this.config) return null;
    const { t, config } = this;
    const consent = this.root.getElementById(this.id("consent")) as HTMLInputElement | null;
    const rules = this.options.phoneRules;
    this.inFlight = true;
    this.setBusy(form, true, t.sendingStatus);
    let outcome: SubmitOutcome;
    try {
      // A number from another country needs that country's rules: usually here already, or one
      // small fetch. Without them the number is still checked as far as the database checks it.
      await rules.prepare(this.value(form, "phone"), config.defaultCountry);
      const result = validateLeadForm(
        {
          name: this.value(form, "name"),
          phone: this.value(form, "phone"),
          email: this.value(form, "email"),
          emailLooksValid: !(form.elements.namedItem("email") as HTMLInputElement | null)?.validity.typeMismatch,
          message: this.value(form, "message"),
          smsConsent: consent?.checked === true,
          honeypot: this.value(form, "website"),
        },
        config.fields,
        config.defaultCountry,
        rules,
        t,
      );
      if (!result.ok) {
        this.setBusy(form, false, "");
        this.showErrors(result.errors, t.fixFields);
        return null;
      }
      this.showErrors({}, null);
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), this.options.requestTimeoutMs ?? 20_000);
      const sourceUrl = this.options.sourceUrl?.() ?? location.href;
      const row = { ...result.value, widget_id: this.options.widgetId, source_url: sourceUrl, locale: t.locale, reported_timezone: browserTimeZone() };
      outcome = await insertLead(this.client, row, t, timeout.signal).finally(() => clearTimeout(timer));
      if (outcome.kind === "saved") {
        this.done = true;
        this.renderThanks(config, row.sms_consent && row.phone !== null);
        return outcome;
      }
    } finally {
      this.inFlight = false;
    }
    if (outcome.kind === "rejected") {
      this.setBusy(form, false, "");
      this.showErrors(outcome.fieldErrors, outcome.message);
    } else {
      // Rate limits and network trouble keep what the visitor typed; pressing the button again
      // is the retry, and it is disabled while a request is still out.
      this.setBusy(form, false, "");
      this.showErrors({}, outcome.message);
      const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
      if (button && outcome.kind === "network") button.textContent = t.tryAgain;
    }
    return outcome;
  }

  private renderThanks(config: WidgetConfig, texting: boolean): void {
    this.shell.replaceChildren(
      h("div", { class: "done", role: "status", "aria-live": "polite", tabindex: -1, id: this.id("done") },
        h("div", { class: "tick", "aria-hidden": "true" }, "✓"),
        h("h2", {}, this.t.thanksTitle),
        h("p", { class: "sub" }, this.t.thanks(config.businessName, texting)),
      ),
    );
    this.root.getElementById(this.id("done"))?.focus();
  }
}

export function mountLeadForm(options: MountOptions & { phoneRules: PhoneRules }): LeadForm {
  const form = new LeadForm(options);
  void form.start();
  return form;
}
