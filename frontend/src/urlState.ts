// The page's view (filters, page, selected resource, series, range) lives in the URL query string so it can be shared.
// The API token never goes here.
import { useCallback, useSyncExternalStore } from "react";

export const RANGES = ["7d", "30d", "90d"] as const;
export type RangeKey = (typeof RANGES)[number];

export interface ViewState {
  provider: string;
  environment: string;
  q: string;
  page: number;
  resource: number | null;
  series: string;
  range: RangeKey;
}

const DEFAULTS: ViewState = { provider: "", environment: "", q: "", page: 1, resource: null, series: "", range: "7d" };

function positiveInt(raw: string | null): number | null {
  if (!raw || !/^\d+$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 ? n : null;
}

export function parseView(search: string): ViewState {
  const p = new URLSearchParams(search);
  const range = p.get("range");
  return {
    provider: p.get("provider") ?? "",
    environment: p.get("environment") ?? "",
    q: p.get("q") ?? "",
    page: positiveInt(p.get("page")) ?? 1,
    resource: positiveInt(p.get("resource")),
    series: p.get("series") ?? "",
    range: (RANGES as readonly string[]).includes(range ?? "") ? (range as RangeKey) : DEFAULTS.range,
  };
}

export function formatView(view: ViewState): string {
  const p = new URLSearchParams();
  if (view.provider) p.set("provider", view.provider);
  if (view.environment) p.set("environment", view.environment);
  if (view.q) p.set("q", view.q);
  if (view.page > 1) p.set("page", String(view.page));
  if (view.resource !== null) p.set("resource", String(view.resource));
  if (view.series) p.set("series", view.series);
  if (view.range !== DEFAULTS.range) p.set("range", view.range);
  const s = p.toString();
  return s ? `?${s}` : "";
}

const listeners = new Set<() => void>();
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}
const getSearch = (): string => window.location.search;

/**
 * Reads the view from the URL and updates it. `push` adds a history entry (opening a resource),
 * otherwise the entry is replaced (typing in a filter should not flood the back button).
 */
export function useView(): [ViewState, (patch: Partial<ViewState>, opts?: { push?: boolean }) => void] {
  const search = useSyncExternalStore(subscribe, getSearch);
  const view = parseView(search);
  const update = useCallback((patch: Partial<ViewState>, opts?: { push?: boolean }) => {
    const next = formatView({ ...parseView(window.location.search), ...patch });
    const url = `${window.location.pathname}${next}${window.location.hash}`;
    if (opts?.push) window.history.pushState(null, "", url);
    else window.history.replaceState(null, "", url);
    listeners.forEach((l) => l());
  }, []);
  return [view, update];
}
