// The threshold lines of a resource's chart: capacity and runway alert rules on its metric, else the runway threshold.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { api, unwrap } from "../api/client";
import { useCapabilities } from "../capabilities";
import type { Threshold } from "./UsageChart";

interface RuleLike {
  name: string;
  kind: string;
  enabled: boolean;
  params: Record<string, unknown>;
}

/** Capacity and runway rules that watch `metric` (a rule without a metric watches CPU), one line per threshold. */
export function ruleThresholds(rules: RuleLike[], metric: string): Threshold[] {
  return rules
    .filter((r) => r.enabled && (r.kind === "capacity" || r.kind === "runway"))
    .filter((r) => (typeof r.params.metric === "string" ? r.params.metric : "cpu_utilization") === metric)
    .map((r) => ({ value: typeof r.params.threshold === "number" ? r.params.threshold : 80, label: `alert "${r.name}"` }));
}

export function useThresholds(resourceId: string, metric: string): Threshold[] {
  const { caps } = useCapabilities();
  const rules = useQuery({
    queryKey: ["alert-rules"],
    queryFn: () => unwrap(api.GET("/api/alerts/rules")),
    enabled: caps.has("/api/alerts/rules"),
    staleTime: 60_000,
  });
  const runway = useQuery({
    queryKey: ["runway", resourceId, metric],
    queryFn: () => unwrap(api.GET("/api/runway", { params: { query: { resource: resourceId, metric } } })),
    enabled: caps.has("/api/runway"),
  });
  // one array per answer, not per render: the chart redraws only when a threshold changes
  return useMemo(() => {
    const fromRules = ruleThresholds(rules.data ?? [], metric);
    if (fromRules.length > 0) return fromRules;
    const own = runway.data?.resources.find((r) => r.metric === metric);
    return own ? [{ value: own.threshold, label: "runway threshold" }] : [];
  }, [rules.data, runway.data, metric]);
}
