// The script tag to paste into the owner's site (with a copy button), and a live preview: the real
// widget bundle rendering the real configuration, in a sandboxed frame with no access to the dashboard.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { fetchRuntimeConfig } from "../lib/runtimeConfig.ts";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { installSnippet, type Locale } from "./model.ts";

export function widgetScriptUrl(): string {
  return new URL("/widget/leadloop-widget.js", window.location.origin).toString();
}

/** The project URL and public key the dashboard itself was started with (its /config.json). */
export function InstallSnippet({ widgetId, idPrefix }: { widgetId: string; idPrefix: string }) {
  const config = useQuery({ queryKey: ["runtime-config"], queryFn: () => fetchRuntimeConfig(), staleTime: Infinity });
  if (config.error) return <ErrorBox error={config.error} onRetry={() => void config.refetch()} />;
  if (!config.data) return <Loading what="the snippet" />;
  return <SnippetFor widgetId={widgetId} idPrefix={idPrefix} supabaseUrl={config.data.supabaseUrl} supabaseKey={config.data.supabaseAnonKey} />;
}

function SnippetFor({ widgetId, idPrefix, supabaseUrl, supabaseKey }: { widgetId: string; idPrefix: string; supabaseUrl: string; supabaseKey: string }) {
  const [locale, setLocale] = useState<Locale | "">("");
  const [copied, setCopied] = useState<"copied" | "failed" | null>(null);
  const snippet = installSnippet({ widgetId, supabaseUrl, supabaseKey, scriptUrl: widgetScriptUrl(), locale });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      setCopied("copied");
    } catch {
      setCopied("failed");
    }
  };
  return (
    <div className="snippet">
      <div className="field">
        <label htmlFor={`${idPrefix}-locale`}>Form language</label>
        <select id={`${idPrefix}-locale`} value={locale} onChange={(e) => { setLocale(e.target.value as Locale | ""); setCopied(null); }}>
          <option value="">The page's language (English or Spanish)</option>
          <option value="en">Always English</option>
          <option value="es">Always Spanish</option>
        </select>
      </div>
      <label htmlFor={`${idPrefix}-snippet`} className="snippet-label">Paste this where the form should appear</label>
      <textarea id={`${idPrefix}-snippet`} className="code" readOnly rows={4} value={snippet} onFocus={(e) => e.currentTarget.select()} />
      <div className="actions">
        <button type="button" className="btn btn-primary" onClick={() => void copy()}>Copy snippet</button>
        <span role="status" className="small">
          {copied === "copied" ? "Copied to the clipboard." : copied === "failed" ? "Copying was blocked: select the text and copy it." : ""}
        </span>
      </div>
      <details className="preview">
        <summary>Preview the form</summary>
        <iframe title="Widget preview" sandbox="allow-scripts" className="preview-frame"
          srcDoc={`<!doctype html><html lang="${locale || "en"}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head><body style="margin:8px;font-family:sans-serif">${snippet}</body></html>`} />
        <p className="small muted">Submitting the preview is refused: it runs on no allowed site. Test from one of your sites.</p>
      </details>
    </div>
  );
}
