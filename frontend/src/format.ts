// Number, money and date formatting (Intl), shared by every view.

const compact = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const price = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4 });
const moneyFormats = new Map<string, Intl.NumberFormat>();

export const DASH = "—";
const bad = (v: number | null | undefined): v is null | undefined => v === null || v === undefined || !Number.isFinite(v);

export function fmtNumber(v: number | null | undefined): string {
  return bad(v) ? DASH : compact.format(v);
}

export function fmtPrice(v: number | null | undefined): string {
  return bad(v) ? DASH : `${price.format(v)}/h`;
}

export function fmtMoney(v: number | null | undefined, currency = "USD"): string {
  if (bad(v)) return DASH;
  let f = moneyFormats.get(currency);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 0 });
    moneyFormats.set(currency, f);
  }
  return f.format(v);
}

export function fmtPercent(v: number | null | undefined, fraction = false): string {
  if (bad(v)) return DASH;
  return `${compact.format(fraction ? v * 100 : v)}%`;
}

export function fmtMemory(v: number | null | undefined): string {
  return bad(v) ? DASH : `${compact.format(v)} GiB`;
}

export function fmtValue(v: number | null | undefined, unit: string): string {
  if (bad(v)) return DASH;
  const n = Math.abs(v) >= 100 ? Math.round(v).toLocaleString() : compact.format(v);
  return unit ? `${n} ${unit}` : n;
}

export function fmtDateTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : iso;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "5 minutes ago", "3 days ago": how fresh a timestamp is. */
export function fmtAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return DASH;
  const seconds = Math.round((t - now) / 1000);
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of steps) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(seconds, "second");
}

const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** Days as "12 days" / "3.5 months" (short: "12 d" / "3.5 mo"); Infinity as "beyond the horizon". */
export function fmtDays(v: number | null | undefined, short = false): string {
  if (v === null || v === undefined || Number.isNaN(v)) return DASH;
  if (!Number.isFinite(v)) return "beyond the horizon";
  if (v >= 60) return `${compact.format(v / 30.4)}${short ? " mo" : " months"}`;
  return short ? `${whole.format(v)} d` : `${compact.format(v)} days`;
}
