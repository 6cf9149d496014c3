// A bar per day whose sign shows: credits and refunds hang below zero in red, charges stand above it.
import { useMemo } from "react";
import type { EChartsOption } from "echarts";
import { fmtDate, fmtMoney } from "../format";
import { useTimeZone } from "../timeZone";
import { EChart } from "./EChart";

export interface SignedDay {
  day: string; // YYYY-MM-DD, a UTC charge day
  value: number;
}

const POSITIVE = "#2563eb";
const NEGATIVE = "#dc2626";

export function SignedBars({ days, currency, title, testId }: { days: SignedDay[]; currency: string; title: string; testId: string }) {
  const zone = useTimeZone(); // a switch re-renders the tooltip's dates
  const option = useMemo((): EChartsOption => ({
    animation: false,
    aria: { enabled: true, label: { description: title } },
    grid: { left: 8, right: 16, top: 16, bottom: 36, containLabel: true },
    tooltip: {
      trigger: "axis",
      confine: true,
      formatter: (raw) => {
        const p = (Array.isArray(raw) ? raw : [raw])[0];
        const d = p ? days[p.dataIndex] : undefined;
        return d ? `<b>${fmtDate(d.day)} (UTC charge day)</b><br/>${fmtMoney(d.value, currency)}` : "";
      },
    },
    // charge days are UTC days whatever the dashboard's zone: the axis says so
    xAxis: { type: "category", name: "charge day (UTC)", nameLocation: "middle", nameGap: 24, data: days.map((d) => fmtDate(d.day)) },
    yAxis: { type: "value", name: currency, axisLabel: { formatter: (v: number) => fmtMoney(v, currency) } },
    series: [
      {
        type: "bar",
        name: title,
        data: days.map((d) => ({ value: d.value, itemStyle: { color: d.value < 0 ? NEGATIVE : POSITIVE } })),
      },
    ],
  }), [days, currency, title, zone]);
  return <EChart option={option} ariaLabel={title} testId={testId} className="small-chart" />;
}
