import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App } from "./App.tsx";
import { fetchRuntimeConfig } from "./lib/runtimeConfig.ts";
import { createDb } from "./lib/db.ts";
import { DbProvider } from "./lib/supabase.tsx";
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
    root.render(
      <StrictMode>
        <DbProvider db={db}>
          <QueryClientProvider client={queryClient}>
            <App />
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
