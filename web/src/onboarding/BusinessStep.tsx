// The first step: the business's name, the owner's mobile (lead alerts go there), time zone (prefilled
// from the browser) and language, then create_business.
import { useMemo, useState, type FormEvent } from "react";
import { useNavigate } from "@tanstack/react-router";
import { businessErrorField, timeZones, validateBusinessForm, type BusinessForm, type BusinessFormErrors } from "./model.ts";
import { useCreateBusiness } from "./queries.ts";

export function BusinessStep() {
  const navigate = useNavigate();
  const { zones, guess } = useMemo(timeZones, []);
  const [form, setForm] = useState<BusinessForm>({ name: "", phone: "", timezone: guess, locale: "en" });
  const [errors, setErrors] = useState<BusinessFormErrors>({});
  const [general, setGeneral] = useState<string | null>(null);
  const create = useCreateBusiness();
  const set = <K extends keyof BusinessForm>(key: K, value: BusinessForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const result = validateBusinessForm(form, zones);
    setGeneral(null);
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    create.mutate(result.value, {
      onSuccess: (id) => void navigate({ to: "/welcome", search: { business: id } }),
      onError: (err) => {
        const field = businessErrorField(err.message);
        if (field) setErrors({ [field]: err.message.replace(/^.*?(name|owner_phone|timezone|locale): /, "") });
        else setGeneral(err.message);
      },
    });
  };

  const describe = (key: keyof BusinessForm, hint?: string) => ({
    "aria-invalid": errors[key] ? true : undefined,
    "aria-describedby": [hint ? `biz-${key}-hint` : "", errors[key] ? `biz-${key}-error` : ""].join(" ").trim() || undefined,
  });
  const problem = (key: keyof BusinessForm) => errors[key] && <small id={`biz-${key}-error`} className="field-error">{errors[key]}</small>;

  return (
    <form onSubmit={onSubmit} noValidate>
      <div role="alert" className={general ? "alert alert-error" : "visually-hidden"}>{general ?? ""}</div>
      <div className="field">
        <label htmlFor="biz-name">Business name</label>
        <input id="biz-name" autoComplete="organization" maxLength={120} value={form.name} {...describe("name", "hint")}
          onChange={(e) => set("name", e.target.value)} />
        <small id="biz-name-hint" className="muted">Leads see it in every text, so use the name they know you by.</small>
        {problem("name")}
      </div>
      <div className="field">
        <label htmlFor="biz-phone">Your mobile number</label>
        <input id="biz-phone" type="tel" autoComplete="tel" inputMode="tel" value={form.phone} {...describe("phone", "hint")}
          onChange={(e) => set("phone", e.target.value)} />
        <small id="biz-phone-hint" className="muted">Lead alerts are texted here. We text it a code to confirm it is yours; alerts wait until then.</small>
        {problem("phone")}
      </div>
      <div className="field">
        <label htmlFor="biz-timezone">Time zone</label>
        <select id="biz-timezone" value={form.timezone} {...describe("timezone")} onChange={(e) => set("timezone", e.target.value)}>
          {zones.map((z) => <option key={z} value={z}>{z.replace(/_/g, " ")}</option>)}
        </select>
        {problem("timezone")}
      </div>
      <div className="field">
        <label htmlFor="biz-locale">Language of your alerts</label>
        <select id="biz-locale" value={form.locale} onChange={(e) => set("locale", e.target.value as BusinessForm["locale"])}>
          <option value="en">English</option>
          <option value="es">Español</option>
        </select>
      </div>
      <button type="submit" className="btn btn-primary" disabled={create.isPending}>{create.isPending ? "Creating…" : "Create business"}</button>
      <p className="small muted">Your 14-day free trial starts now: 50 conversations, no card needed.</p>
    </form>
  );
}
