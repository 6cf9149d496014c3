// Which API routes this server has, read from its OpenAPI schema, so a view whose API has not landed yet says
// so plainly instead of drawing an empty or invented chart.
import { useQuery } from "@tanstack/react-query";

export interface Capabilities {
  has: (path: string, method?: "get" | "post" | "put" | "patch" | "delete") => boolean;
}

async function loadPaths(): Promise<Record<string, Record<string, unknown>>> {
  const response = await fetch("/api/openapi.json");
  if (!response.ok) throw new Error(`cannot read the API schema (HTTP ${response.status})`);
  const body = (await response.json()) as { paths?: Record<string, Record<string, unknown>> };
  return body.paths ?? {};
}

export function capabilitiesFrom(paths: Record<string, Record<string, unknown>>): Capabilities {
  return { has: (path, method = "get") => Boolean(paths[path]?.[method]) };
}

export function useCapabilities(): { ready: boolean; caps: Capabilities } {
  const q = useQuery({ queryKey: ["openapi-paths"], queryFn: loadPaths, staleTime: 10 * 60_000 });
  return { ready: !q.isPending, caps: capabilitiesFrom(q.data ?? {}) };
}
