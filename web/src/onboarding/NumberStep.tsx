// The texting number: search numbers for sale by area code and buy one, or connect a number the
// Twilio account already has: picked from the list twilio-numbers gives (never another business's),
// or by its PN... id. twilio-numbers checks the caller owns the business.
import { useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { numberQueries, ownedNumberQueries, useGetNumber, type SetupBusiness } from "./queries.ts";

export function NumberStep({ business }: { business: SetupBusiness }) {
  const db = useDb();
  const [typed, setTyped] = useState("");
  const [areaCode, setAreaCode] = useState<string | null>(null);
  const [areaError, setAreaError] = useState<string | null>(null);
  const [sid, setSid] = useState("");
  const [sidError, setSidError] = useState<string | null>(null);
  const results = useQuery({ ...numberQueries.search(db, business.id, areaCode ?? ""), enabled: areaCode !== null });
  // Asked for once the owner opens "I already have a number": listing the account costs Twilio calls.
  const [showOwned, setShowOwned] = useState(false);
  const owned = useQuery({ ...ownedNumberQueries.list(db, business.id), enabled: showOwned });
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
      <details className="connect-number" onToggle={(e) => setShowOwned(e.currentTarget.open)}>
        <summary>I already have a number in leadloop's Twilio account</summary>
        {owned.isFetching && <Loading what="the account's numbers" />}
        {owned.error && <ErrorBox error={owned.error} onRetry={() => void owned.refetch()} />}
        {owned.data && owned.data.numbers.length === 0 && <p role="status">The account has no other number you can connect. Buy one above.</p>}
        {owned.data && owned.data.numbers.length > 0 && (
          <ul className="number-list" aria-label="Numbers in the account">
            {owned.data.numbers.map((n) => (
              <li key={n.phone_number_sid}>
                <span><strong>{n.friendly_name}</strong> {n.friendly_name !== n.phone_number && <span className="small muted">{n.phone_number}</span>}</span>
                <button type="button" className="btn btn-small" disabled={getNumber.isPending}
                  aria-label={`Connect ${n.friendly_name}`} onClick={() => getNumber.mutate({ phone_number_sid: n.phone_number_sid })}>Connect</button>
              </li>
            ))}
          </ul>
        )}
        {owned.data && !owned.data.complete && <p className="small muted">The account has more numbers than this list shows: connect another by its id.</p>}
        <form className="inline-form" onSubmit={onConnect} noValidate>
          <div className="field">
            <label htmlFor="number-sid">Or enter its Twilio number id</label>
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
