// What the router shows for an unknown address or a page that failed to load (often its code
// chunk, after a deploy replaced it: reloading fetches the new one).
import { Link, type ErrorComponentProps } from "@tanstack/react-router";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";

/** Inside the shell, which already has the page's <main>. */
export function NotFoundCard({ what = "page" }: { what?: string }) {
  useDocumentTitle(`${what[0].toUpperCase()}${what.slice(1)} not found`);
  return (
    <div className="card empty">
      <h1>{what[0].toUpperCase()}{what.slice(1)} not found</h1>
      <p className="muted">The link may be wrong{what === "lead" ? ", or the lead belongs to another business" : ""}.</p>
      <Link to="/" className="btn btn-touch">Back to leads</Link>
    </div>
  );
}

/** An address no route knows, outside the shell. */
export function NotFoundPage() {
  return <main className="content"><NotFoundCard /></main>;
}

export function RouteError({ error }: ErrorComponentProps) {
  useDocumentTitle("Something went wrong");
  return (
    <div className="alert alert-error" role="alert">
      <span>This page could not be shown: {error instanceof Error ? error.message : String(error)}</span>
      <button type="button" className="btn btn-touch" onClick={() => window.location.reload()}>Reload</button>
    </div>
  );
}
