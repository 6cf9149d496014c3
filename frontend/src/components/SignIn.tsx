// Sign-in with an API token: the token is checked against GET /api/me before it is kept.
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { errorMessage } from "./StateViews";

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setError("Paste an API token; `headroom token create --name me` prints one.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.GET("/api/me", { headers: { Authorization: `Bearer ${candidate}` } }));
      onSignedIn(candidate);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title" data-testid="signin-form">
        <h1 id="signin-title">
          <span className="logo" aria-hidden="true" /> Headroom
        </h1>
        <p className="muted">Capacity and cost forecasts for your fleet. Sign in with an API token.</p>
        {notice && !error && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="hdr_…"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          data-testid="token-input"
        />
        {error && (
          <p className="state-error inline" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="signin-submit">
          {busy ? "Checking…" : "Sign in"}
        </button>
        <p className="muted small">The token stays in this browser tab only and is never put in a link.</p>
      </form>
    </main>
  );
}
