// Entry point: the query client (no retries on answers the user must act on) and the 401 sign-out.
import { StrictMode, useEffect, useMemo } from "react";
import { createRoot } from "react-dom/client";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError } from "./api/client";
import { App } from "./App";
import { useAuth, type Auth } from "./auth";
import "./styles.css";

function retry(failures: number, error: unknown): boolean {
  // 4xx answers will not change by asking again; network errors and 5xx might.
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failures < 2;
}

let signOutOnUnauthorized: Auth["signOut"] | null = null;
function onError(error: unknown): void {
  if (error instanceof ApiError && error.status === 401 && signOutOnUnauthorized) {
    signOutOnUnauthorized(`You were signed out: ${error.message}`);
  }
}

function Root() {
  const auth = useAuth();
  const client = useMemo(
    () =>
      new QueryClient({
        queryCache: new QueryCache({ onError }),
        mutationCache: new MutationCache({ onError }),
        defaultOptions: { queries: { retry, refetchOnWindowFocus: false, staleTime: 30_000 } },
      }),
    [],
  );
  useEffect(() => {
    signOutOnUnauthorized = auth.signOut;
  }, [auth.signOut]);
  // Nothing from one token's session may show under another's.
  useEffect(() => {
    if (!auth.token) client.clear();
  }, [auth.token, client]);
  return (
    <QueryClientProvider client={client}>
      <App auth={auth} />
    </QueryClientProvider>
  );
}

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
