// Number and date formatting shared by the table and the chart.

const compact = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4 });

export const DASH = "—";

export function fmtNumber(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? DASH : compact.format(v);
}

export function fmtPrice(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? DASH : `${money.format(v)}/h`;
}

export function fmtMemory(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? DASH : `${compact.format(v)} GiB`;
}

export function fmtValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  const n = Math.abs(v) >= 100 ? Math.round(v).toLocaleString() : compact.format(v);
  return unit ? `${n} ${unit}` : n;
}

export function fmtDateTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
