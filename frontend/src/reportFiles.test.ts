import { describe, expect, it } from "vitest";
import { csvCell, toCsv, toHtml } from "./reportFiles";
import { roiRows, technicalRows, TECHNICAL_HEADER } from "./views/Reports";
import { fleetRow, recommendation } from "./test/fixtures";

describe("report files", () => {
  it("quotes CSV cells that need it and defuses spreadsheet formulas", () => {
    expect(csvCell('say "hi", then go')).toBe('"say ""hi"", then go"');
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell("=cmd|' /C calc'!A0")).toBe("'=cmd|' /C calc'!A0");
    for (const lead of ["+", "-", "@", "\t", "\r"]) expect(csvCell(`${lead}SUM(A1)`).replace(/^"/, "")).toMatch(/^'/);
    expect(csvCell("-12.5")).toBe("-12.5");
    expect(csvCell(-3)).toBe("-3");
    expect(csvCell(null)).toBe("");
    expect(csvCell(Number.NaN)).toBe("");
    expect(toCsv(["a", "b"], [[1, "x"]])).toBe("a,b\r\n1,x\r\n");
  });

  it("escapes HTML and carries a print stylesheet", () => {
    const html = toHtml("Report <1>", new Date("2026-11-23T00:00:00Z"), [
      { title: "T", header: ["name"], rows: [["<script>alert(1)</script>"]] },
    ]);
    expect(html).toContain("&lt;script&gt;");
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("@page");
    expect(html).toContain("@media print");
  });

  it("writes one technical row per resource, with usage rounded to 0.1", () => {
    const rows = technicalRows([fleetRow()]);
    expect(rows[0]).toHaveLength(TECHNICAL_HEADER.length);
    expect(rows[0]?.[7]).toBe(45.1);
    expect(rows[0]?.[8]).toBeNull();
  });

  it("computes the return of implemented recommendations", () => {
    const [row] = roiRows([recommendation({ status: "verified", monthly_savings_effective: 40, realised_savings_monthly: 30 })]);
    expect(row?.slice(5)).toEqual([40, 30, 360, "75%"]);
  });
});
