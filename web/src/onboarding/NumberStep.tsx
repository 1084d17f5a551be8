// The texting number: search numbers for sale by area code and buy one, or connect a number the
// Twilio account already has (by its PN... id). twilio-numbers checks the caller owns the business.
import { useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { numberQueries, useGetNumber, type SetupBusiness } from "./queries.ts";

export function NumberStep({ business }: { business: SetupBusiness }) {
  const db = useDb();
  const [typed, setTyped] = useState("");
  const [areaCode, setAreaCode] = useState<string | null>(null);
  const [areaError, setAreaError] = useState<string | null>(null);
  const [sid, setSid] = useState("");
  const [sidError, setSidError] = useState<string | null>(null);
  const results = useQuery({ ...numberQueries.search(db, business.id, areaCode ?? ""), enabled: areaCode !== null });
  const getNumber = useGetNumber(business.id);

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    const code = typed.trim();
    if (code && !/^[2-9]\d{2}$/.test(code)) return setAreaError("An area code is 3 digits, like 415.");
    setAreaError(null);
    setAreaCode(code);
  };
  const onConnect = (event: FormEvent) => {
    event.preventDefault();
    const value = sid.trim();
    if (!/^PN[0-9a-f]{32}$/.test(value)) return setSidError("A Twilio number id is PN followed by 32 letters and digits (0-9, a-f).");
    setSidError(null);
    getNumber.mutate({ phone_number_sid: value });
  };

  return (
    <>
      <p className="muted">Leads get texts from this number and reply to it, and the code for your phone comes from it. A local area code gets more replies.</p>
      <form className="inline-form" onSubmit={onSearch} noValidate>
        <div className="field">
          <label htmlFor="area-code">Area code</label>
          <input id="area-code" inputMode="numeric" maxLength={3} value={typed} placeholder="415" aria-invalid={areaError ? true : undefined}
            aria-describedby={areaError ? "area-code-error" : undefined} onChange={(e) => setTyped(e.target.value)} />
          {areaError && <small id="area-code-error" className="field-error">{areaError}</small>}
        </div>
        <button type="submit" className="btn btn-primary">Search numbers</button>
      </form>
      {results.isFetching && <Loading what="numbers" />}
      {results.error && <ErrorBox error={results.error} onRetry={() => void results.refetch()} />}
      {results.data && results.data.length === 0 && <p role="status">No numbers for sale in {areaCode || "that search"}. Try a nearby area code.</p>}
      {results.data && results.data.length > 0 && (
        <ul className="number-list" aria-label="Numbers for sale">
          {results.data.map((n) => (
            <li key={n.phone_number}>
              <span><strong>{n.friendly_name}</strong> <span className="small muted">{[n.locality, n.region].filter(Boolean).join(", ")}</span></span>
              <button type="button" className="btn btn-small" disabled={getNumber.isPending}
                aria-label={`Buy ${n.friendly_name}`} onClick={() => getNumber.mutate({ phone_number: n.phone_number })}>Buy</button>
            </li>
          ))}
        </ul>
      )}
      {getNumber.isPending && <p role="status">Setting up your number…</p>}
      {getNumber.error && <ErrorBox error={getNumber.error} />}
      <details className="connect-number">
        <summary>I already have a number in leadloop's Twilio account</summary>
        <form className="inline-form" onSubmit={onConnect} noValidate>
          <div className="field">
            <label htmlFor="number-sid">Twilio number id</label>
            <input id="number-sid" value={sid} spellCheck={false} placeholder="PN…" aria-invalid={sidError ? true : undefined}
              aria-describedby={sidError ? "number-sid-error" : undefined} onChange={(e) => setSid(e.target.value)} />
            {sidError && <small id="number-sid-error" className="field-error">{sidError}</small>}
          </div>
          <button type="submit" className="btn" disabled={getNumber.isPending}>Connect it</button>
        </form>
      </details>
    </>
  );
}
