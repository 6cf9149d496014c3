// Alerting for admins: the configured channels (secrets masked by the API) with a test send, the rules, and the
// alerts firing or pending now. Channels and rules are defined in config/alerts.yml or the CLI.
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { fmtAgo } from "../format";
import { Empty, ErrorNotice, Loading } from "./StateViews";

function TestSend({ name }: { name: string }) {
  const send = useMutation({
    mutationFn: () => unwrap(api.POST("/api/alerts/channels/{name}/test", { params: { path: { name } } })),
  });
  return (
    <>
      <button type="button" onClick={() => send.mutate()} disabled={send.isPending} aria-label={`Send a test message to ${name}`}>
        {send.isPending ? "Sending…" : "Send test"}
      </button>
      {send.isSuccess && <span className="muted small"> sent</span>}
      {send.isError && <ErrorNotice error={send.error} what="the test message" />}
    </>
  );
}

export function Alerting() {
  const channels = useQuery({ queryKey: ["alert-channels"], queryFn: () => unwrap(api.GET("/api/alerts/channels")) });
  const rules = useQuery({ queryKey: ["alert-rules"], queryFn: () => unwrap(api.GET("/api/alerts/rules")) });
  const alerts = useQuery({ queryKey: ["alerts"], queryFn: () => unwrap(api.GET("/api/alerts", { params: { query: { limit: 20 } } })) });
  return (
    <div className="grid-3">
      <div>
        <h3>Channels</h3>
        {channels.isPending ? (
          <Loading what="channels" />
        ) : channels.isError ? (
          <ErrorNotice error={channels.error} what="channels" />
        ) : channels.data.length === 0 ? (
          <Empty>No channel: add one in config/alerts.yml or with `headroom alerts`.</Empty>
        ) : (
          <ul className="runway-list" data-testid="alert-channels">
            {channels.data.map((c) => (
              <li key={c.id}>
                <span>
                  <b>{c.name}</b> <span className="muted small">{c.type}</span>
                </span>
                <span>
                  <TestSend name={c.name} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div>
        <h3>Rules</h3>
        {rules.isPending ? (
          <Loading what="rules" />
        ) : rules.isError ? (
          <ErrorNotice error={rules.error} what="rules" />
        ) : rules.data.length === 0 ? (
          <Empty>No rule.</Empty>
        ) : (
          <ul className="runway-list" data-testid="alert-rules">
            {rules.data.map((r) => (
              <li key={r.id}>
                <span>
                  <b>{r.name}</b> <span className="muted small">{r.kind}, {r.severity}{r.enabled ? "" : ", disabled"}</span>
                </span>
                <span className="muted small">→ {r.channels.join(", ") || "no channel"}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div>
        <h3>Alerts now</h3>
        {alerts.isPending ? (
          <Loading what="alerts" />
        ) : alerts.isError ? (
          <ErrorNotice error={alerts.error} what="alerts" />
        ) : alerts.data.length === 0 ? (
          <Empty>No alert.</Empty>
        ) : (
          <ul className="runway-list" data-testid="alerts">
            {alerts.data.map((a) => (
              <li key={a.id}>
                <span>
                  <b>{a.subject || a.rule}</b> <span className="muted small">{a.summary}</span>
                </span>
                <span className={a.state === "firing" ? "danger" : "muted"}>
                  {a.state} {fmtAgo(a.fired_at ?? a.pending_since)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
