// Entry of widget/dist/leadloop-widget.js. Embed:
// <script src=".../leadloop-widget.js" data-widget-id="<uuid>" data-supabase-url="https://<ref>.supabase.co"
//         data-supabase-key="<anon or publishable key>" [data-target="#contact"] [data-locale="es"] async></script>
import { mountLeadForm, type LeadForm, type MountOptions } from "./form.ts";
import { chunkUrl, PhoneRules, type CallingCodes, type MetadataChunk } from "./phone.ts";

// Put in by widget/build.ts: every calling code, and the phone rules this script carries itself.
declare const __LEADLOOP_PHONE__: { callingCodes: CallingCodes; bundled: MetadataChunk[] };

// The phone rules of other calling codes sit next to this script (phone/<code>.json).
const scriptUrl = (document.currentScript as HTMLScriptElement | null)?.src
  || document.querySelector<HTMLScriptElement>("script[src*='leadloop-widget']")?.src
  || location.href;
const phoneRules = new PhoneRules(__LEADLOOP_PHONE__.callingCodes, __LEADLOOP_PHONE__.bundled, async (code) => {
  const response = await fetch(chunkUrl(scriptUrl, code));
  return response.ok ? response.json() : null;
});

const MOUNTED = "data-leadloop-mounted";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function mountFromScript(script: HTMLScriptElement): LeadForm | null {
  if (script.hasAttribute(MOUNTED)) return null;
  script.setAttribute(MOUNTED, "");
  const widgetId = script.dataset.widgetId?.trim() ?? "";
  const supabaseUrl = script.dataset.supabaseUrl?.trim() ?? "";
  const supabaseKey = script.dataset.supabaseKey?.trim() ?? "";
  const problems = [
    UUID.test(widgetId) ? null : "data-widget-id must be the widget's uuid",
    /^https?:\/\//.test(supabaseUrl) ? null : "data-supabase-url must be the project URL",
    supabaseKey ? null : "data-supabase-key must be the anon or publishable key",
  ].filter(Boolean);
  if (problems.length > 0) {
    console.error(`[leadloop] widget not rendered: ${problems.join("; ")}`);
    return null;
  }
  let host: HTMLElement | null = null;
  const target = script.dataset.target?.trim();
  if (target) {
    host = document.querySelector<HTMLElement>(target);
    if (!host) console.error(`[leadloop] data-target "${target}" matched nothing; rendering after the script tag`);
  }
  if (!host) {
    host = document.createElement("div");
    host.className = "leadloop-widget";
    script.insertAdjacentElement("afterend", host);
  }
  return mountLeadForm({ widgetId, supabaseUrl, supabaseKey, host, locale: script.dataset.locale, phoneRules });
}

function mountAll(): void {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.dataset.widgetId !== undefined) {
    mountFromScript(current);
    return;
  }
  // currentScript is null when the bundle is loaded as a module or injected by a tag manager.
  document.querySelectorAll<HTMLScriptElement>(`script[data-widget-id]:not([${MOUNTED}])`).forEach(mountFromScript);
}

declare global {
  interface Window {
    LeadLoopWidget?: { mount(options: MountOptions): LeadForm };
  }
}

window.LeadLoopWidget = {
  mount: (options) => mountLeadForm({ ...options, phoneRules: options.phoneRules ?? phoneRules }),
};

if (document.readyState === "loading" && document.currentScript instanceof HTMLScriptElement
  && document.currentScript.dataset.target) {
  // A data-target further down the page does not exist yet while a blocking script runs.
  const script = document.currentScript;
  document.addEventListener("DOMContentLoaded", () => mountFromScript(script), { once: true });
} else {
  mountAll();
}
