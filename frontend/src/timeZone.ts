// The dashboard's one time zone: UTC unless the viewer switches to the browser's; every axis and tooltip names it.
import { useSyncExternalStore } from "react";

export type ZoneChoice = "UTC" | "local";
const KEY = "headroom.timeZone";
const listeners = new Set<() => void>();

function stored(): ZoneChoice {
  try {
    return window.localStorage.getItem(KEY) === "local" ? "local" : "UTC";
  } catch {
    return "UTC";
  }
}

let current: ZoneChoice = typeof window === "undefined" ? "UTC" : stored();

export function getZone(): ZoneChoice {
  return current;
}

export function setZone(zone: ZoneChoice): void {
  current = zone;
  try {
    window.localStorage.setItem(KEY, zone);
  } catch {
    // private mode: the choice lasts for this page only
  }
  listeners.forEach((l) => l());
}

/** The IANA name Intl formats with: undefined is the browser's own zone. */
export function intlZone(zone: ZoneChoice = current): string | undefined {
  return zone === "UTC" ? "UTC" : undefined;
}

/** "UTC", or the browser zone's short name ("CET", "GMT+1"). */
export function zoneLabel(zone: ZoneChoice = current, at = Date.now()): string {
  if (zone === "UTC") return "UTC";
  const part = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(at).find((p) => p.type === "timeZoneName");
  return part?.value ?? "local time";
}

/** The current choice; components that format times re-render when it changes. */
export function useTimeZone(): ZoneChoice {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getZone,
    () => "UTC" as ZoneChoice,
  );
}
