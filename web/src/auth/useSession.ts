import { useEffect, useState } from "react";
import type { Session } from "@supabase/supabase-js";
import { useDb } from "../lib/supabase.tsx";

/** undefined while the stored session is being read, then the session or null. */
export function useSession(): Session | null | undefined {
  const db = useDb();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    let active = true;
    void db.auth.getSession().then(({ data }) => {
      if (active) setSession(data.session);
    });
    const { data } = db.auth.onAuthStateChange((_event, next) => {
      if (active) setSession(next);
    });
    return () => {
      active = false;
      data.subscription.unsubscribe();
    };
  }, [db]);
  return session;
}
