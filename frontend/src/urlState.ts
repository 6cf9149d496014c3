// Where the page is: the view comes from the path (/resources/12, /executive ...) and its filters from the query
// string, so any view can be shared as a link. The API token never goes here.
import { useCallback, useSyncExternalStore } from "react";

export const RANGES = ["1d", "7d", "30d", "90d"] as const;
export type RangeKey = (typeof RANGES)[number];

export const VIEWS = [
  "overview",
  "resource",
  "executive",
  "recommendations",
  "scenarios",
  "autoscaling",
  "reports",
  "upload",
  "admin",
] as const;
export type ViewName = (typeof VIEWS)[number] | "not-found";

export interface Route {
  view: ViewName;
  /** The resource's numeric id on /resources/:id. */
  id: number | null;
  params: URLSearchParams;
}

function positiveInt(raw: string | null | undefined): number | null {
  if (!raw || !/^\d+$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 ? n : null;
}

export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  const parts = pathname.split("/").filter(Boolean);
  if (parts.length === 0) return { view: "overview", id: null, params };
  if (parts[0] === "resources" && parts.length === 2) {
    const id = positiveInt(parts[1]);
    return id === null ? { view: "not-found", id: null, params } : { view: "resource", id, params };
  }
  const name = parts[0] as ViewName;
  if (parts.length === 1 && (VIEWS as readonly string[]).includes(name) && name !== "resource") {
    return { view: name, id: null, params };
  }
  return { view: "not-found", id: null, params };
}

/** A query string from a record; empty values and defaults are left out so links stay short. */
export function queryString(values: Record<string, string | number | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined || v === "") continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

export function pageParam(params: URLSearchParams, name = "page"): number {
  return positiveInt(params.get(name)) ?? 1;
}

export function rangeParam(params: URLSearchParams): RangeKey {
  const r = params.get("range");
  return (RANGES as readonly string[]).includes(r ?? "") ? (r as RangeKey) : "7d";
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
const getLocation = (): string => `${window.location.pathname}${window.location.search}`;

/**
 * Goes to a path (with its query string). `replace` swaps the history entry (typing in a filter should not
 * flood the back button); otherwise a new entry is pushed (opening a resource, changing view).
 */
export function navigate(to: string, opts?: { replace?: boolean }): void {
  if (to === getLocation()) return;
  if (opts?.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const location = useSyncExternalStore(subscribe, getLocation);
  const q = location.indexOf("?");
  return parseRoute(q < 0 ? location : location.slice(0, q), q < 0 ? "" : location.slice(q));
}

/** Updates some query parameters of the current path; null or "" removes one. Page resets unless given. */
export function useParamUpdater(): (patch: Record<string, string | number | null>, opts?: { push?: boolean }) => void {
  return useCallback((patch, opts) => {
    const p = new URLSearchParams(window.location.search);
    if (!("page" in patch)) p.delete("page");
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || v === "" || (k === "page" && v === 1)) p.delete(k);
      else p.set(k, String(v));
    }
    const s = p.toString();
    navigate(`${window.location.pathname}${s ? `?${s}` : ""}`, { replace: !opts?.push });
  }, []);
}
