// Report files built in the browser: CSV (RFC 4180 quoting) and a standalone, printable HTML page.

export type Cell = string | number | null | undefined;

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** OWASP's rule against CSV injection: a text cell that a spreadsheet would read as a formula (it begins with
 * = + - @, a tab or a carriage return) gets a leading `'`, so it is shown as text. Numbers stay numbers. */
export function defuseFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) && !NUMBER.test(s) ? `'${s}` : s;
}

export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : defuseFormula(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

export interface HtmlSection {
  title: string;
  paragraphs?: string[];
  header?: string[];
  rows?: Cell[][];
}

const PRINT_CSS = `
body{font:12pt/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#0f172a;margin:24px}
h1{font-size:20pt;margin:0 0 4px}h2{font-size:14pt;margin:20px 0 6px;break-after:avoid}
p.meta{color:#475569;margin:0 0 16px}table{border-collapse:collapse;width:100%;font-size:10pt}
th,td{border-bottom:1px solid #cbd5e1;padding:4px 6px;text-align:left}th{background:#f1f5f9}
tr{break-inside:avoid}thead{display:table-header-group}
@page{size:A4;margin:16mm}@media print{body{margin:0}a{color:inherit;text-decoration:none}}`;

/** A whole HTML document with a print stylesheet, so the browser's "Save as PDF" gives a clean report. */
export function toHtml(title: string, generated: Date, sections: HtmlSection[]): string {
  const body = sections
    .map((s) => {
      const paras = (s.paragraphs ?? []).map((p) => `<p>${escapeHtml(p)}</p>`).join("");
      const table =
        s.header && s.rows
          ? `<table><thead><tr>${s.header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${s.rows
              .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c === null || c === undefined ? "—" : String(c))}</td>`).join("")}</tr>`)
              .join("")}</tbody></table>`
          : "";
      return `<section><h2>${escapeHtml(s.title)}</h2>${paras}${table}</section>`;
    })
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${PRINT_CSS}</style></head><body><h1>${escapeHtml(
    title,
  )}</h1><p class="meta">Generated ${escapeHtml(generated.toISOString())} by Headroom</p>${body}</body></html>`;
}

/** Saves text as a file through a temporary link (no server round trip, nothing in the URL). */
export function download(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}
