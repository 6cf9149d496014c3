// A small React wrapper around Apache ECharts: one chart instance per element, resized with its box.
import { useEffect, useRef } from "react";
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TooltipComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import type { EChartsOption } from "echarts";

echarts.use([
  LineChart,
  BarChart,
  AriaComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  DataZoomComponent,
  MarkLineComponent,
  MarkPointComponent,
  MarkAreaComponent,
  CanvasRenderer,
]);

/** The drawn range of the first value axis, "min,max" (what the browser test checks against a metric's domain). */
function drawnExtent(instance: echarts.ECharts): string {
  // getModel is internal API; a missing axis just leaves the attribute empty
  const model = (instance as unknown as { getModel?: () => { getComponent: (t: string, i: number) => unknown } }).getModel?.();
  const axis = model?.getComponent("yAxis", 0) as { axis?: { scale?: { getExtent: () => [number, number] } } } | undefined;
  const extent = axis?.axis?.scale?.getExtent();
  return extent ? extent.join(",") : "";
}

export interface EChartProps {
  option: EChartsOption;
  className?: string;
  testId?: string;
  ariaLabel: string;
  /** Called after the option has been applied and drawn. */
  onRendered?: () => void;
}

export function EChart({ option, className, testId, ariaLabel, onRendered }: EChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const instance = echarts.init(el.current, undefined, { renderer: "canvas" });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(el.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const instance = chart.current;
    if (!instance) return;
    // notMerge: a new series or range replaces the old picture instead of blending into it.
    instance.setOption(option, { notMerge: true });
    el.current?.setAttribute("data-y-extent", drawnExtent(instance));
    onRendered?.();
  }, [option, onRendered]);

  return <div ref={el} className={className} data-testid={testId} role="img" aria-label={ariaLabel} />;
}
