// Loading, empty and error states, used the same way everywhere on the page.
import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function Empty({ children, testId }: { children: ReactNode; testId?: string }) {
  return (
    <div className="state state-empty" data-testid={testId}>
      {children}
    </div>
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorNotice({ error, what, onRetry }: { error: unknown; what: string; onRetry?: () => void }) {
  const status = error instanceof ApiError && error.status ? ` (HTTP ${error.status})` : "";
  return (
    <div className="state state-error" role="alert" data-testid="error">
      <strong>Could not load {what}{status}:</strong> <span className="detail">{errorMessage(error)}</span>
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Said in place of a view or panel whose API route this server does not have yet. */
export function NotAvailable({ what, route, issue }: { what: string; route: string; issue: string }) {
  return (
    <div className="state state-unavailable" role="note" data-testid="not-available">
      <strong>{what} is not available yet.</strong> This server has no <code>{route}</code> route ({issue}); nothing is shown rather than an empty or invented figure.
    </div>
  );
}

/** Said when the signed-in role may not use a view. */
export function Forbidden({ need, role }: { need: string; role: string }) {
  return (
    <div className="state state-error" role="alert" data-testid="forbidden">
      <strong>This page needs the {need} role.</strong> You are signed in as <b>{role}</b>; ask an admin for a
      token with the {need} role.
    </div>
  );
}
