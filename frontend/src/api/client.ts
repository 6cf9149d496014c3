// The typed HTTP client: openapi-fetch over the generated schema, with the bearer token and error unwrapping.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer T } } };
}
  ? T
  : never;

export type Me = Json<"/api/me", "get">;
export type ResourcePage = Json<"/api/resources", "get">;
export type Resource = ResourcePage["items"][number];
export type SeriesPage = Json<"/api/series", "get">;
export type Series = SeriesPage["items"][number];
export type Metrics = Json<"/api/metrics", "get">;
export type Forecast = Json<"/api/forecasts", "get">;
export type ForecastPoint = Forecast["points"][number];
export type FleetPage = Json<"/api/fleet", "get">;
export type FleetRow = FleetPage["items"][number];
export type TokenPage = Json<"/api/tokens", "get">;
export type SourcePage = Json<"/api/sources", "get">;
export type AdhocJob = Json<"/api/forecasts/adhoc/jobs/{job_id}", "get">;
export type AdhocForecast = NonNullable<AdhocJob["result"]>;
export type RunwayPage = Json<"/api/runway", "get">;
export type Runway = RunwayPage["resources"][number];
export type RecommendationPage = Json<"/api/recommendations", "get">;
export type Recommendation = RecommendationPage["items"][number];
export type Summary = Json<"/api/summary", "get">;
export type ScenarioPage = Json<"/api/scenarios", "get">;
export type Scenario = ScenarioPage["items"][number];
export type ScenarioCompare = Json<"/api/scenarios/{scenario_id}/compare", "get">;
export type AccuracyPage = Json<"/api/accuracy", "get">;
export type ModelVersionPage = Json<"/api/models", "get">;
export type AnomalyPage = Json<"/api/anomalies", "get">;
export type Anomaly = AnomalyPage["items"][number];
export type Spend = Json<"/api/spend", "get">;
export type Budgets = Json<"/api/spend/budgets", "get">;
export type CommitmentCoverage = Json<"/api/spend/commitment-coverage", "get">;

/** An error the API answered with; `detail` is the message meant for the person using the page. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, detail: string) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
  }
}

/** Turns any error body into one readable sentence: `{"detail": str}`, FastAPI's list form, or plain text. */
export function detailOf(body: unknown, status: number): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d) => (d && typeof d === "object" && "msg" in d ? String((d as { msg: unknown }).msg) : String(d)))
        .join("; ");
    }
  }
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 300);
  return `the server answered HTTP ${status}`;
}

let currentToken: string | null = null;

/** Token the client sends; held in memory here, persisted in sessionStorage by the auth hook. */
export function setClientToken(token: string | null): void {
  currentToken = token;
}

const bearer: Middleware = {
  onRequest({ request }) {
    if (currentToken) request.headers.set("Authorization", `Bearer ${currentToken}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(bearer);

/** Resolves an openapi-fetch result to its data, or throws ApiError carrying the API's `detail`. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (e) {
    throw new ApiError(0, `cannot reach the Headroom API (${e instanceof Error ? e.message : String(e)})`);
  }
  const { data, error, response } = result;
  if (!response.ok || error !== undefined) throw new ApiError(response.status, detailOf(error, response.status));
  if (data === undefined) throw new ApiError(response.status, "the API answered with an empty body");
  return data;
}
export type AutoscalingGroupPage = Json<"/api/autoscaling/groups", "get">;
export type AutoscalingPlan = Json<"/api/autoscaling/groups/{group_pk}/plan", "get">;
