// The way to Settings > Email from other settings pages (one line where it is shown).
import { Link } from "@tanstack/react-router";

export function EmailSettingsLink() {
  return (
    <p className="email-settings-link">
      <Link to="/settings/email">Email alerts</Link>
      <span className="muted">: choose whether new leads and summaries also come to your inbox.</span>
    </p>
  );
}
