// Lives inside the shadow root, so the host page's CSS cannot break the form and ours cannot leak.
// Hosts theme it through inherited custom properties (--leadloop-accent, --leadloop-radius, ...).
export const WIDGET_CSS = `
:host { all: initial; display: block; }
.ll {
  --accent: var(--leadloop-accent, #1f6feb);
  --accent-ink: var(--leadloop-accent-ink, #ffffff);
  --ink: var(--leadloop-ink, #1d2330);
  --muted: var(--leadloop-muted, #5b6474);
  --line: var(--leadloop-line, #d5dae3);
  --bg: var(--leadloop-bg, #ffffff);
  --danger: #b42318;
  --radius: var(--leadloop-radius, 10px);
  box-sizing: border-box;
  font-family: var(--leadloop-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: 16px; line-height: 1.45; color: var(--ink); background: var(--bg);
  border: 1px solid var(--line); border-radius: var(--radius);
  padding: 20px; max-width: 480px; width: 100%;
  box-shadow: 0 1px 2px rgba(16,24,40,.06);
}
.ll *, .ll *::before, .ll *::after { box-sizing: inherit; }
.ll h2 { font-size: 1.2rem; margin: 0 0 4px; font-weight: 650; }
.ll .sub { margin: 0 0 16px; color: var(--muted); font-size: .92rem; }
.ll .field { margin-bottom: 14px; }
.ll label.lbl { display: block; font-weight: 600; font-size: .9rem; margin-bottom: 4px; }
.ll .opt { color: var(--muted); font-weight: 400; }
.ll input[type=text], .ll input[type=tel], .ll input[type=email], .ll textarea {
  width: 100%; font: inherit; color: inherit; background: #fff;
  border: 1px solid var(--line); border-radius: calc(var(--radius) - 4px);
  padding: 10px 12px; min-height: 44px;
}
.ll textarea { min-height: 96px; resize: vertical; }
.ll input:focus-visible, .ll textarea:focus-visible, .ll button:focus-visible {
  outline: 3px solid color-mix(in srgb, var(--accent) 40%, transparent); outline-offset: 1px;
  border-color: var(--accent);
}
.ll [aria-invalid=true] { border-color: var(--danger); }
.ll .err { color: var(--danger); font-size: .86rem; margin-top: 4px; }
.ll .err:empty { display: none; }
.ll .consent { display: flex; gap: 10px; align-items: flex-start; margin: 6px 0 16px; }
.ll .consent input { width: 20px; height: 20px; margin: 2px 0 0; flex: none; accent-color: var(--accent); }
.ll .consent label { font-size: .84rem; color: var(--muted); }
.ll .hp { position: absolute !important; left: -10000px !important; width: 1px; height: 1px; overflow: hidden; }
.ll button {
  font: inherit; font-weight: 600; cursor: pointer; width: 100%; min-height: 46px;
  border: 0; border-radius: calc(var(--radius) - 4px); background: var(--accent); color: var(--accent-ink);
}
.ll button[disabled] { opacity: .65; cursor: progress; }
.ll button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); margin-top: 10px; }
.ll .alert { border-radius: calc(var(--radius) - 4px); padding: 10px 12px; margin-bottom: 14px; font-size: .92rem; }
.ll .alert:empty { display: none; }
.ll .alert.error { background: #fef3f2; color: var(--danger); border: 1px solid #fecdca; }
.ll .done { text-align: center; padding: 12px 0; }
.ll .done .tick { width: 44px; height: 44px; border-radius: 50%; background: #ecfdf3; color: #067647;
  display: inline-flex; align-items: center; justify-content: center; font-size: 24px; margin-bottom: 8px; }
.ll .status { color: var(--muted); font-size: .92rem; }
.ll .fine { color: var(--muted); font-size: .75rem; margin: 12px 0 0; text-align: center; }
@media (max-width: 420px) { .ll { padding: 16px; } }
@media (prefers-reduced-motion: no-preference) { .ll button { transition: filter .15s; } .ll button:hover { filter: brightness(1.08); } }
`;
