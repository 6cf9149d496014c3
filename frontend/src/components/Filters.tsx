// Filter controls whose values live in the URL: a select and a text box that writes after typing pauses.
import { useEffect, useId, useRef, useState } from "react";

export function SelectFilter({
  label,
  value,
  options,
  onChange,
  testId,
  all = "All",
}: {
  label: string;
  value: string;
  options: (string | readonly [value: string, label: string])[];
  onChange: (v: string) => void;
  testId?: string;
  all?: string;
}) {
  const id = useId();
  const pairs = options.map((o) => (typeof o === "string" ? ([o, o] as const) : o));
  const choices = value && !pairs.some(([v]) => v === value) ? [...pairs, [value, value] as const] : pairs;
  return (
    <label htmlFor={id}>
      <span>{label}</span>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value="">{all}</option>
        {choices.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
}

export function TextFilter({
  label,
  value,
  onChange,
  placeholder,
  testId,
  delay = 300,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  placeholder?: string;
  testId?: string;
  delay?: number;
}) {
  const id = useId();
  const [text, setText] = useState(value);
  const written = useRef(value);
  useEffect(() => {
    if (text === written.current) return;
    const t = window.setTimeout(() => {
      written.current = text;
      onChange(text.trim());
    }, delay);
    return () => window.clearTimeout(t);
  }, [text, onChange, delay]);
  // Back/forward changes the URL under us: follow it, but never undo what is being typed.
  useEffect(() => {
    if (value !== written.current) {
      written.current = value;
      setText(value);
    }
  }, [value]);
  return (
    <label htmlFor={id}>
      <span>{label}</span>
      <input
        id={id}
        type="search"
        value={text}
        placeholder={placeholder}
        onChange={(e) => setText(e.target.value)}
        data-testid={testId}
      />
    </label>
  );
}

/** The usual values plus any seen in answers so far, so a select never loses its current choice. */
export function useSeenOptions(base: string[], seen: (string | undefined)[], current: string): string[] {
  const known = useRef(new Set(base));
  for (const v of seen) if (v) known.current.add(v);
  if (current) known.current.add(current);
  return [...known.current].sort();
}
