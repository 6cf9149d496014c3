// Admin: API tokens (created and shown once, listed, revoked), data-source status, alert channels and rules.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { Alerting } from "../components/Alerting";
import { useCapabilities } from "../capabilities";
import { Empty, ErrorNotice, Loading, NotAvailable } from "../components/StateViews";
import { fmtAgo, fmtDate, DASH } from "../format";

type RoleName = "viewer" | "editor" | "admin";

export function AdminView() {
  const { caps, ready } = useCapabilities();
  return (
    <>
      <h1 className="page-title">Admin</h1>
      <Tokens />
      <Sources />
      <section className="card" aria-labelledby="alerts-title" data-testid="admin-alerts">
        <h2 id="alerts-title">Alert channels and rules</h2>
        {!ready ? (
          <Loading what="alerting" />
        ) : !caps.has("/api/alerts/channels") || !caps.has("/api/alerts/rules") ? (
          <NotAvailable what="Alert channels and rules" route="GET /api/alerts/channels, GET /api/alerts/rules" issue="the alerting issue adds it" />
        ) : (
          <Alerting />
        )}
      </section>
    </>
  );
}

function Tokens() {
  const client = useQueryClient();
  const ids = { name: useId(), role: useId(), days: useId() };
  const [name, setName] = useState("");
  const [role, setRole] = useState<RoleName>("viewer");
  const [days, setDays] = useState("");
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => unwrap(api.GET("/api/tokens")) });
  const create = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/tokens", { body: { name, role, expires_in_days: days ? Number(days) : null } })),
    onSuccess: () => {
      setName("");
      void client.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/tokens/{token_id}", { params: { path: { token_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["tokens"] }),
  });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (name.trim()) create.mutate();
  }

  return (
    <section className="card" aria-labelledby="tokens-title" data-testid="admin-tokens">
      <h2 id="tokens-title">API tokens</h2>
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor={ids.name}>
          <span>Name</span>
          <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} required maxLength={128} data-testid="token-name" />
        </label>
        <label htmlFor={ids.role}>
          <span>Role</span>
          <select id={ids.role} value={role} onChange={(e) => setRole(e.target.value as RoleName)}>
            <option value="viewer">viewer</option>
            <option value="editor">editor</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label htmlFor={ids.days}>
          <span>Expires in (days)</span>
          <input id={ids.days} type="number" min={1} max={3650} value={days} placeholder="default" onChange={(e) => setDays(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={create.isPending} data-testid="token-create">
          Create token
        </button>
      </form>
      {create.isError && <ErrorNotice error={create.error} what="a new token" />}
      {create.data && (
        <div className="notice" role="status" data-testid="token-created">
          <p>
            Token <b>{create.data.name}</b> ({create.data.role}) — copy it now, it is shown only once:
          </p>
          <code className="secret">{create.data.token}</code>
        </div>
      )}
      {tokens.isPending ? (
        <Loading what="tokens" />
      ) : tokens.isError ? (
        <ErrorNotice error={tokens.error} what="tokens" />
      ) : tokens.data.items.length === 0 ? (
        <Empty>No tokens.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="resources">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.items.map((t) => (
                <tr key={t.id} data-testid="token-row">
                  <td data-label="Name">{t.name}</td>
                  <td data-label="Prefix" className="mono">{t.prefix}…</td>
                  <td data-label="Role">{t.scope}</td>
                  <td data-label="Created">{fmtDate(t.created_at)}</td>
                  <td data-label="Expires">{fmtDate(t.expires_at)}</td>
                  <td data-label="Last used">{t.last_used_at ? fmtAgo(t.last_used_at) : DASH}</td>
                  <td data-label="Status">
                    {t.revoked_at ? (
                      `revoked ${fmtDate(t.revoked_at)}`
                    ) : (
                      <button type="button" onClick={() => revoke.mutate(t.id)} disabled={revoke.isPending} aria-label={`Revoke token ${t.name}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoke.isError && <ErrorNotice error={revoke.error} what="revoking the token" />}
    </section>
  );
}

function Sources() {
  const sources = useQuery({ queryKey: ["sources"], queryFn: () => unwrap(api.GET("/api/sources")) });
  return (
    <section className="card" aria-labelledby="sources-title" data-testid="admin-sources">
      <h2 id="sources-title">Data sources</h2>
      {sources.isPending ? (
        <Loading what="data sources" />
      ) : sources.isError ? (
        <ErrorNotice error={sources.error} what="data sources" />
      ) : sources.data.items.length === 0 ? (
        <Empty>No data source is configured or has run.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="resources">
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Configured</th>
                <th scope="col">Last success</th>
                <th scope="col">Samples written</th>
                <th scope="col">API spend this month</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {sources.data.items.map((s) => (
                <tr key={s.name}>
                  <td data-label="Source">{s.name}</td>
                  <td data-label="Configured">{s.configured ? "yes" : "no"}</td>
                  <td data-label="Last success">{fmtAgo(s.last_success_at)}</td>
                  <td data-label="Samples written">{s.samples_written.toLocaleString()}</td>
                  <td data-label="API spend this month">
                    ${s.spend_month_usd.toFixed(2)}
                    {s.monthly_budget_usd != null ? ` of $${s.monthly_budget_usd.toFixed(2)}` : ""}
                  </td>
                  <td data-label="Last error" className={s.last_error ? "danger" : "muted"}>{s.last_error || "none"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
