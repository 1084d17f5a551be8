// Renders the lead form into a shadow root and drives it: loading -> ready -> sending -> done,
// with one request in flight at most so a double click or an impatient retry never saves twice.
import {
  createRestClient,
  insertLead,
  loadWidgetConfig,
  type RestClient,
  type SubmitOutcome,
  type WidgetConfig,
} from "./api.ts";
import { WIDGET_CSS } from "./styles.ts";
import { validateLeadForm, LIMITS, type FieldErrors, type FieldKey, type FieldSpec } from "./validation.ts";

export interface MountOptions {
  widgetId: string;
  supabaseUrl: string;
  supabaseKey: string;
  /** Where to render; a shadow root is attached to it. */
  host: HTMLElement;
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
  private config: WidgetConfig | null = null;
  private inFlight = false;
  private done = false;

  constructor(private readonly options: MountOptions) {
    this.client = createRestClient(options.supabaseUrl, options.supabaseKey, options.fetch);
    this.root = options.host.shadowRoot ?? options.host.attachShadow({ mode: "open" });
    this.root.replaceChildren(h("style", {}, WIDGET_CSS));
    this.shell = h("div", { class: "ll", part: "container" });
    this.root.append(this.shell);
  }

  async start(): Promise<void> {
    this.shell.replaceChildren(h("p", { class: "status", role: "status" }, "Loading the contact form…"));
    const result = await loadWidgetConfig(this.client, this.options.widgetId);
    if (result.kind === "ok") {
      this.config = result.config;
      this.renderForm(result.config);
    } else if (result.kind === "inactive") {
      console.error(`[leadloop] widget ${this.options.widgetId} is unknown or inactive`);
      this.shell.replaceChildren(
        h("p", { class: "status", role: "status" }, "This contact form is not available right now."),
      );
    } else {
      console.error(`[leadloop] could not load widget config: ${result.detail}`);
      const retry = h("button", { type: "button", class: "secondary" }, "Try again");
      retry.addEventListener("click", () => void this.start());
      this.shell.replaceChildren(
        h("div", { class: "alert error", role: "alert" }, "We couldn't load the contact form. Check your connection."),
        retry,
      );
    }
  }

  private id(name: string): string {
    return `${this.prefix}-${name}`;
  }

  private renderForm(config: WidgetConfig): void {
    const form = h("form", { novalidate: true, "aria-labelledby": this.id("title") });
    const alert = h("div", { class: "alert error", id: this.id("alert"), role: "alert", "aria-live": "assertive" });
    form.append(
      h("h2", { id: this.id("title") }, `Contact ${config.businessName}`),
      h("p", { class: "sub" }, "Send a request and we'll get back to you quickly."),
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
        h("label", { for: this.id("website") }, "Leave this field empty"),
        h("input", { type: "text", id: this.id("website"), name: "website", tabindex: -1, autocomplete: "off" }),
      ),
    );
    const submit = h("button", { type: "submit" }, "Send request");
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
      h("label", { class: "lbl", for: inputId }, field.label, field.required ? null : h("span", { class: "opt" }, " (optional)")),
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
      button.textContent = busy ? "Sending…" : "Send request";
    }
    form.setAttribute("aria-busy", busy ? "true" : "false");
    const statusEl = this.root.getElementById(this.id("status"));
    if (statusEl) statusEl.textContent = status;
  }

  async submit(form: HTMLFormElement): Promise<SubmitOutcome | null> {
    if (this.inFlight || this.done || !this.config) return null;
    const config = this.config;
    const consent = this.root.getElementById(this.id("consent")) as HTMLInputElement | null;
    const result = validateLeadForm(
      {
        name: this.value(form, "name"),
        phone: this.value(form, "phone"),
        email: this.value(form, "email"),
        message: this.value(form, "message"),
        smsConsent: consent?.checked === true,
        honeypot: this.value(form, "website"),
      },
      config.fields,
      config.defaultCountry,
    );
    if (!result.ok) {
      this.showErrors(result.errors, "Please fix the highlighted fields.");
      return null;
    }
    this.showErrors({}, null);
    this.inFlight = true;
    this.setBusy(form, true, "Sending your request…");
    let outcome: SubmitOutcome;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.options.requestTimeoutMs ?? 20_000);
    try {
      const sourceUrl = this.options.sourceUrl?.() ?? location.href;
      outcome = await insertLead(this.client, this.options.widgetId, result.value, sourceUrl, timeout.signal);
    } finally {
      clearTimeout(timer);
      this.inFlight = false;
    }
    if (outcome.kind === "saved") {
      this.done = true;
      this.renderThanks(config, result.value.sms_consent && result.value.phone !== null);
    } else if (outcome.kind === "rejected") {
      this.setBusy(form, false, "");
      this.showErrors(outcome.fieldErrors, outcome.message);
    } else {
      // Rate limits and network trouble keep what the visitor typed; pressing the button again
      // is the retry, and it is disabled while a request is still out.
      this.setBusy(form, false, "");
      this.showErrors({}, outcome.message);
      const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
      if (button && outcome.kind === "network") button.textContent = "Try again";
    }
    return outcome;
  }

  private renderThanks(config: WidgetConfig, texting: boolean): void {
    this.shell.replaceChildren(
      h("div", { class: "done", role: "status", "aria-live": "polite", tabindex: -1, id: this.id("done") },
        h("div", { class: "tick", "aria-hidden": "true" }, "✓"),
        h("h2", {}, "Thanks, we got your request"),
        h("p", { class: "sub" },
          texting
            ? `${config.businessName} will be in touch shortly. You may get a text from us to ask a quick question.`
            : `${config.businessName} will be in touch shortly.`),
      ),
    );
    this.root.getElementById(this.id("done"))?.focus();
  }
}

export function mountLeadForm(options: MountOptions): LeadForm {
  const form = new LeadForm(options);
  void form.start();
  return form;
}
