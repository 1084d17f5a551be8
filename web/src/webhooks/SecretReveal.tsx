// The one time a signing secret is shown: after adding an endpoint or rotating its secret. Focus moves
// here so a keyboard or screen reader user meets it first.
import { useEffect, useRef, useState } from "react";

export function SecretReveal({ secret, url, rotated, onDone }: { secret: string; url: string; rotated: boolean; onDone: () => void }) {
  const panel = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);

  useEffect(() => panel.current?.focus(), []);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("yes");
    } catch {
      // No clipboard permission (an http page, an old browser): select it for Ctrl/Cmd+C instead.
      input.current?.select();
      setCopied("failed");
    }
  };

  return (
    <div className="card secret-reveal" ref={panel} tabIndex={-1} role="region" aria-labelledby="secret-title">
      <h2 id="secret-title">Copy the signing secret now</h2>
      <p>
        {rotated ? "The new secret" : "The secret"} for <code className="webhook-url">{url}</code> is shown only this once. Your server
        uses it to check that requests come from leadloop (Standard Webhooks).
        {rotated && " The old secret keeps working for 24 hours, so you can switch without missing anything."}
      </p>
      <div className="field">
        <label htmlFor="signing-secret">Signing secret</label>
        <input id="signing-secret" ref={input} readOnly value={secret} spellCheck={false} onFocus={(e) => e.target.select()} />
      </div>
      <div className="actions">
        <button type="button" className="btn btn-primary" onClick={() => void copy()}>Copy secret</button>
        <button type="button" className="btn" onClick={onDone}>Done</button>
        <span role="status" aria-live="polite" className={copied === "yes" ? "saved" : "muted"}>
          {copied === "yes" ? "Copied" : copied === "failed" ? "Selected: press Ctrl+C (or ⌘C) to copy" : ""}
        </span>
      </div>
    </div>
  );
}
