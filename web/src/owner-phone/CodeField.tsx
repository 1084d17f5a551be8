// The texted 6-digit code that confirms a phone, as the owner-phone banner, the setup's code step and a
// member's alert phone ask for it: what is typed is checked before it is sent, and a wrong or expired code
// is said at the field.
import { useState, type FormEvent } from "react";
import type { UseMutationResult } from "@tanstack/react-query";
import { codeSchema } from "./code.ts";

export interface CodeEntry {
  code: string;
  setCode: (code: string) => void;
  problem: string | null;
}

/** The form's submit handler and its field's state; `onConfirmed` runs once the code confirmed the phone. */
export function useCodeEntry(confirm: UseMutationResult<boolean, Error, string, unknown>, onConfirmed?: () => void) {
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = codeSchema.safeParse(code);
    if (!parsed.success) return setProblem(parsed.error.issues[0].message);
    setProblem(null);
    confirm.mutate(parsed.data, {
      onSuccess: (ok) => {
        if (!ok) return setProblem("That code is wrong or has expired. Check the text, or ask for a new code.");
        onConfirmed?.();
      },
    });
  };
  const entry: CodeEntry = { code, setCode, problem };
  return { onSubmit, entry };
}

export function CodeField({ id, label, entry }: { id: string; label: string; entry: CodeEntry }) {
  const problemId = `${id}-problem`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={entry.code}
        aria-invalid={entry.problem ? true : undefined} aria-describedby={entry.problem ? problemId : undefined}
        onChange={(e) => entry.setCode(e.target.value)} />
      {entry.problem && <small id={problemId} className="field-error" role="alert">{entry.problem}</small>}
    </div>
  );
}
