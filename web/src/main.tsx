import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { fetchRuntimeConfig } from "./lib/runtimeConfig.ts";
import { createDb } from "./lib/db.ts";
import { DbProvider } from "./lib/supabase.tsx";
import { createAppRouter } from "./router.tsx";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

async function boot() {
  try {
    const config = await fetchRuntimeConfig();
    const db = createDb(config);
    const queryClient = new QueryClient({
      // Realtime invalidation keeps data fresh; refetching on every focus would only add load.
      defaultOptions: { queries: { staleTime: 60_000, refetchOnWindowFocus: false, retry: 1 } },
    });
    const router = createAppRouter({ db, queryClient });
    db.auth.onAuthStateChange((event) => {
      if (event !== "SIGNED_IN" && event !== "SIGNED_OUT") return;
      // Nothing one account loaded may show up for the next one on this browser.
      if (event === "SIGNED_OUT") queryClient.clear();
      // Outside the callback: supabase-js holds its auth lock while it runs, and the routes'
      // beforeLoad reads the session again (signed out -> /sign-in, signed in -> where they were going).
      setTimeout(() => void router.invalidate(), 0);
    });
    root.render(
      <StrictMode>
        <DbProvider db={db}>
          <QueryClientProvider client={queryClient}>
            <RouterProvider router={router} />
          </QueryClientProvider>
        </DbProvider>
      </StrictMode>,
    );
  } catch (error) {
    root.render(
      <main className="content">
        <div className="alert alert-error" role="alert">
          The dashboard could not start: {(error as Error).message}
        </div>
      </main>,
    );
  }
}

void boot();
