// How good this series' forecasts are: live accuracy (MASE, interval coverage) and the model versions with their
// backtest and ensemble member weights.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type ModelVersionPage } from "../api/client";
import { useCapabilities } from "../capabilities";
import { fmtDate, fmtNumber, fmtPercent } from "../format";
import { Empty, ErrorNotice, Loading, NotAvailable } from "./StateViews";

type ModelVersion = ModelVersionPage["items"][number];
export type EnsembleMember = NonNullable<ModelVersion["members"]>[number];

/** The ensemble's members (GET /api/models): those carrying weight, largest first, then those kept out. */
export function memberWeights(model: Pick<ModelVersion, "members">): { weighted: EnsembleMember[]; unweighted: EnsembleMember[] } {
  const members = [...(model.members ?? [])].sort((a, b) => b.weight - a.weight || a.name.localeCompare(b.name));
  return { weighted: members.filter((m) => m.weight > 0), unweighted: members.filter((m) => m.weight <= 0) };
}

/** Live accuracy in words: how often actuals fell inside the 80% band, and the mean path against seasonal naive. */
export function confidenceWords(coverage80: number | null | undefined, mase: number | null | undefined, since: string | null | undefined): string {
  const parts: string[] = [];
  if (coverage80 !== null && coverage80 !== undefined) {
    const verdict = coverage80 < 0.7 ? "the band is too narrow" : coverage80 > 0.9 ? "the band is wider than it needs to be" : "about as promised";
    parts.push(`${fmtPercent(coverage80, true)} of actual values fell inside the 80% band since ${fmtDate(since)} (${verdict})`);
  }
  if (mase !== null && mase !== undefined) {
    parts.push(mase < 1 ? "the forecast beats repeating the last cycle (seasonal naive)" : "the forecast does no better than repeating the last cycle (seasonal naive)");
  }
  return parts.length ? `${parts.join("; ")}.` : "";
}

function backtestWords(mase: number): string {
  return mase < 1 ? "better than repeating the last season" : "no better than repeating the last season";
}

function whyNoWeight(m: EnsembleMember): string {
  if (m.dropped) return `${m.name} (could not take part: ${m.dropped})`;
  return m.backtest_mae != null ? `${m.name} (backtest MAE ${fmtNumber(m.backtest_mae)}, too far above the best)` : m.name;
}

export function ForecastQuality({ seriesId }: { seriesId: string }) {
  const { caps } = useCapabilities();
  const hasAccuracy = caps.has("/api/accuracy");
  const hasModels = caps.has("/api/models");
  const accuracy = useQuery({
    queryKey: ["accuracy", seriesId],
    queryFn: () => unwrap(api.GET("/api/accuracy", { params: { query: { series_id: seriesId } } })),
    enabled: hasAccuracy,
  });
  const models = useQuery({
    queryKey: ["models", seriesId],
    queryFn: () => unwrap(api.GET("/api/models", { params: { query: { series_id: seriesId } } })),
    enabled: hasModels,
  });
  const active = models.data?.items.find((m) => m.status === "active") ?? models.data?.items[0];
  const members = active ? memberWeights(active) : { weighted: [], unweighted: [] };
  const live = accuracy.data?.items[0];
  return (
    <section className="card" aria-labelledby="accuracy-title" data-testid="accuracy-panel">
      <h2 id="accuracy-title">Forecast accuracy and ensemble members</h2>
      {!hasAccuracy ? (
        <NotAvailable what="Live accuracy" route="GET /api/accuracy" issue="the forecasting issue adds it" />
      ) : accuracy.isPending ? (
        <Loading what="accuracy" />
      ) : accuracy.isError ? (
        <ErrorNotice error={accuracy.error} what="accuracy" />
      ) : !live ? (
        <Empty testId="accuracy-empty">No live accuracy yet: it is scored once forecast days have actual data.</Empty>
      ) : (
        <>
        <p data-testid="confidence-words">{confidenceWords(live.coverage80, live.mase, live.since)}</p>
        <dl className="facts" data-testid="accuracy">
          <div>
            <dt>Live MASE</dt>
            <dd title="below 1 beats the seasonal-naive forecast">{fmtNumber(live.mase)}</dd>
          </div>
          <div>
            <dt>80% coverage</dt>
            <dd>{fmtPercent(live.coverage80, true)}</dd>
          </div>
          <div>
            <dt>95% coverage</dt>
            <dd>{fmtPercent(live.coverage95, true)}</dd>
          </div>
          <div>
            <dt>Scored</dt>
            <dd>
              {live.points} points, {live.forecasts} forecasts since {fmtDate(live.since)}
            </dd>
          </div>
        </dl>
        </>
      )}
      {!hasModels ? (
        <NotAvailable what="Model versions and member weights" route="GET /api/models" issue="the forecasting issue adds it" />
      ) : models.isPending ? (
        <Loading what="model versions" />
      ) : models.isError ? (
        <ErrorNotice error={models.error} what="model versions" />
      ) : !active ? (
        <Empty>No trained model for this series yet.</Empty>
      ) : (
        <>
          <p data-testid="active-model">
            Serving <code>{active.model_name}</code> v{active.version} ({active.status}), trained {fmtDate(active.trained_at)}
            {typeof active.metrics.mase === "number" ? `, backtest MASE ${fmtNumber(active.metrics.mase)} (${backtestWords(active.metrics.mase)})` : ""}.
          </p>
          {members.weighted.length > 0 ? (
            <>
              <ul className="bars" aria-label="Ensemble members carrying weight" data-testid="member-weights">
                {members.weighted.map((m) => (
                  <li key={m.name} title={m.backtest_mase != null ? `backtest MASE ${fmtNumber(m.backtest_mase)}` : undefined}>
                    <code>{m.name}</code>
                    <span className="bar" aria-hidden="true">
                      <span style={{ width: `${Math.round(m.weight * 100)}%` }} />
                    </span>
                    <span className="num">{fmtPercent(m.weight, true)}</span>
                  </li>
                ))}
              </ul>
              {members.unweighted.length > 0 && (
                <p className="muted small" data-testid="members-without-weight">
                  No weight: {members.unweighted.map(whyNoWeight).join("; ")}.
                </p>
              )}
            </>
          ) : (
            <p className="muted small" data-testid="weights-unavailable">
              {active.model_name === "ensemble"
                ? "This version was trained before member weights were recorded: they appear after the next training run."
                : "This model is a single forecaster, not an ensemble: no member weights."}
            </p>
          )}
        </>
      )}
    </section>
  );
}
