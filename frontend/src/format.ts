// Number, money and date formatting (Intl), shared by every view; times in the dashboard's one time zone.
import { intlZone, zoneLabel } from "./timeZone";

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

/** A moment with its zone: "Dec 5, 14:00 UTC". */
export function fmtDateTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: intlZone(), timeZoneName: "short",
  });
}

/** A time-axis label without the zone (the axis name carries it): "14:00" within a day, else "Dec 5". */
export function fmtAxisTime(ms: number): string {
  const opts: Intl.DateTimeFormatOptions = { timeZone: intlZone(), hourCycle: "h23" };
  const hm = new Date(ms).toLocaleTimeString(undefined, { ...opts, hour: "2-digit", minute: "2-digit" });
  return hm === "00:00" ? new Date(ms).toLocaleDateString(undefined, { ...opts, month: "short", day: "numeric" }) : hm;
}

/** The name of a time axis: "time (UTC)". */
export function timeAxisName(): string {
  return `time (${zoneLabel()})`;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar day ("2026-12-01") is shown as that day everywhere; a moment in the dashboard's zone. */
export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  const timeZone = DATE_ONLY.test(iso) ? "UTC" : intlZone();
  return Number.isFinite(t) ? new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric", timeZone }) : iso;
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
const tenth = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Days as "12 days" / "3.5 months" (short: "12 d" / "3.5 mo"); Infinity as "beyond the horizon". */
export function fmtDays(v: number | null | undefined, short = false): string {
  if (v === null || v === undefined || Number.isNaN(v)) return DASH;
  if (!Number.isFinite(v)) return "beyond the horizon";
  if (v >= 60) return `${compact.format(v / 30.4)}${short ? " mo" : " months"}`;
  // short: whole days, but a runway under 10 days keeps one decimal, so 0.26 days never reads "0 d" (already over)
  return short ? `${(v < 10 && !Number.isInteger(v) ? tenth : whole).format(v)} d` : `${compact.format(v)} days`;
}
