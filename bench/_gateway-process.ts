// A gateway in a process of its own, as Kong and PostgREST are never in the client's process: the bench's
// supabase-js load does not share an event loop with the server it measures. Started by bench/gateway.ts
// with fork(); answers its URL over IPC and closes when the parent disconnects.
import { instanceConfig } from "../local/config.ts";
import { startGateway } from "../local/gateway/server.ts";

const gateway = await startGateway({ config: instanceConfig(), port: 0 });
process.send?.({ url: gateway.url });
process.on("disconnect", () => {
  void gateway.close().finally(() => process.exit(0));
});
