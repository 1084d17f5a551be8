// Three routes do not need a router library: pathname + history API, with the server's SPA fallback.
import { useSyncExternalStore } from "react";

export type Route =
  | { name: "leads" }
  | { name: "lead"; leadId: string }
  | { name: "settings" }
  | { name: "not_found"; path: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || path === "/leads") return { name: "leads" };
  if (path === "/settings") return { name: "settings" };
  const lead = /^\/leads\/([^/]+)$/.exec(path);
  if (lead && UUID.test(lead[1])) return { name: "lead", leadId: lead[1].toLowerCase() };
  return { name: "not_found", path: pathname };
}

export function hrefFor(route: Route): string {
  switch (route.name) {
    case "leads": return "/";
    case "lead": return `/leads/${route.leadId}`;
    case "settings": return "/settings";
    case "not_found": return route.path;
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  return () => window.removeEventListener("popstate", onChange);
}

export function navigate(href: string): void {
  if (href === window.location.pathname) return;
  window.history.pushState(null, "", href);
  window.dispatchEvent(new PopStateEvent("popstate"));
  window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const pathname = useSyncExternalStore(subscribe, () => window.location.pathname);
  return parseRoute(pathname);
}
