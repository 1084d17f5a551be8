// Who the business is and how it texts: name, the owner phone (a new one is confirmed again by a code
// texted to it, and lead alerts wait meanwhile), time zone, language, who confirms a STOP, and the +1
// countries leads may be texted in. Owners edit; staff read.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox } from "../ui/States.tsx";
import { businessFormFrom, changedBusiness, CONFIRMATION_MODES, LOCALES, regionName, timeZones, validateBusiness, type BusinessForm } from "./business.ts";
import { settingsQueries, useUpdateBusinessDetails } from "./queries.ts";

export function BusinessSection() {
  const db = useDb();
  const { business, role } = useMembership();
  const canEdit = role === "owner";
  const [form, setForm] = useState<BusinessForm>(() => businessFormFrom(business));
  const [errors, setErrors] = useState<Partial<Record<keyof BusinessForm, string>>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const update = useUpdateBusinessDetails(business.id);
  const regions = useQuery(settingsQueries.regions(db));
  const zones = useMemo(() => timeZones(business.timezone), [business.timezone]);

  useEffect(() => setForm(businessFormFrom(business)), [business]);

  const set = <K extends keyof BusinessForm>(key: K, value: BusinessForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(null);
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const result = validateBusiness(form);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    const changes = changedBusiness(business, result.value);
    if (Object.keys(changes).length === 0) {
      setSaved("Saved");
      return;
    }
    update.mutate(changes, {
      onSuccess: () => setSaved(changes.owner_phone ? "Saved. We texted a code to the new phone: enter it above to get lead alerts there." : "Saved"),
    });
  };

  const error = (key: keyof BusinessForm) =>
    errors[key] && <small id={`b-${key}-error`} className="field-error" role="alert">{errors[key]}</small>;
  const describedBy = (key: keyof BusinessForm) => [`b-${key}-hint`, errors[key] ? `b-${key}-error` : ""].filter(Boolean).join(" ");
  const regionList = regions.data ?? business.allowed_nanp_regions;

  return (
    <section className="card settings" aria-labelledby="business-title">
      <h2 id="business-title">Business</h2>
      <form onSubmit={onSubmit} noValidate>
        <div className="grid-2">
          <div className="field">
            <label htmlFor="b-name">Business name</label>
            <input id="b-name" value={form.name} disabled={!canEdit} maxLength={120} aria-invalid={errors.name ? true : undefined}
              aria-describedby={describedBy("name")} onChange={(e) => set("name", e.target.value)} />
            <small id="b-name-hint" className="muted">Leads see it in every text.</small>
            {error("name")}
          </div>
          <div className="field">
            <label htmlFor="b-owner_phone">Your phone for lead alerts</label>
            <input id="b-owner_phone" type="tel" autoComplete="tel" value={form.owner_phone} disabled={!canEdit}
              aria-invalid={errors.owner_phone ? true : undefined} aria-describedby={describedBy("owner_phone")}
              onChange={(e) => set("owner_phone", e.target.value)} />
            <small id="b-owner_phone-hint" className="muted">
              {business.owner_phone_verified_at ? "Confirmed." : "Not confirmed yet."} A new number gets a code by text; alerts wait until you enter it.
            </small>
            {error("owner_phone")}
          </div>
          <div className="field">
            <label htmlFor="b-timezone">Time zone</label>
            <select id="b-timezone" value={form.timezone} disabled={!canEdit} aria-describedby={describedBy("timezone")}
              onChange={(e) => set("timezone", e.target.value)}>
              {zones.map((zone) => <option key={zone} value={zone}>{zone.replace(/_/g, " ")}</option>)}
            </select>
            <small id="b-timezone-hint" className="muted">Your daily text count and summaries follow it; leads get texts in their own local time.</small>
            {error("timezone")}
          </div>
          <div className="field">
            <label htmlFor="b-default_locale">Language</label>
            <select id="b-default_locale" value={form.default_locale} disabled={!canEdit} aria-describedby={describedBy("default_locale")}
              onChange={(e) => set("default_locale", e.target.value)}>
              {LOCALES.map((l) => <option key={l.value} value={l.value}>{l.label}</option>)}
            </select>
            <small id="b-default_locale-hint" className="muted">Of your alerts and summaries, and the first guess for a lead (who then gets their own).</small>
            {error("default_locale")}
          </div>
        </div>
        <fieldset aria-describedby="b-opt_out_confirmation_by-hint">
          <legend>Who confirms a STOP</legend>
          {CONFIRMATION_MODES.map((mode) => (
            <div className="choice" key={mode.value}>
              <input type="radio" id={`b-confirm-${mode.value}`} name="opt_out_confirmation_by" value={mode.value} disabled={!canEdit}
                checked={form.opt_out_confirmation_by === mode.value} onChange={() => set("opt_out_confirmation_by", mode.value)} />
              <label htmlFor={`b-confirm-${mode.value}`}><strong>{mode.label}</strong> <span className="muted">{mode.hint}</span></label>
            </div>
          ))}
          <small id="b-opt_out_confirmation_by-hint" className="muted">A lead who texts STOP gets exactly one confirmation, and nothing after it.</small>
        </fieldset>
        <fieldset aria-describedby={describedBy("allowed_nanp_regions")}>
          <legend>Countries leads may be texted in (+1)</legend>
          <div className="region-grid">
            {regionList.map((code) => (
              <div className="choice" key={code}>
                <input type="checkbox" id={`b-region-${code}`} disabled={!canEdit} checked={form.allowed_nanp_regions.includes(code)}
                  onChange={(e) => set("allowed_nanp_regions", e.target.checked
                    ? [...form.allowed_nanp_regions, code] : form.allowed_nanp_regions.filter((r) => r !== code))} />
                <label htmlFor={`b-region-${code}`}>{regionName(code)}</label>
              </div>
            ))}
          </div>
          <small id="b-allowed_nanp_regions-hint" className="muted">
            Many countries share +1. Texts to numbers elsewhere cost more and are a favourite of SMS fraud, so leave only the places you serve.
          </small>
          {error("allowed_nanp_regions")}
        </fieldset>
        {regions.error && <ErrorBox error={regions.error} />}
        {update.error && <ErrorBox error={update.error} />}
        {canEdit && (
          <div className="actions">
            <button type="submit" className="btn btn-primary" disabled={update.isPending}>{update.isPending ? "Saving…" : "Save business"}</button>
            <span role="status" aria-live="polite" className="saved">{!update.isPending && saved ? saved : ""}</span>
          </div>
        )}
      </form>
    </section>
  );
}
