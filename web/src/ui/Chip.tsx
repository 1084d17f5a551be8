import type { ChipTone } from "../leads/status.ts";

export function Chip({ tone, label, title }: { tone: ChipTone; label: string; title?: string }) {
  return <span className={`chip chip-${tone}`} title={title}>{label}</span>;
}
