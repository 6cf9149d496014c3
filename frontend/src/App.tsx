// The page: sign-in until a token is accepted, then the resource list and the selected resource's detail.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./api/client";
import type { Auth } from "./auth";
import { ResourceDetail } from "./components/ResourceDetail";
import { ResourceList } from "./components/ResourceList";
import { SignIn } from "./components/SignIn";
import { ErrorNotice, Loading } from "./components/StateViews";
import { useView } from "./urlState";

export function App({ auth }: { auth: Auth }) {
  if (!auth.token) return <SignIn notice={auth.notice} onSignedIn={auth.signIn} />;
  return <Dashboard auth={auth} token={auth.token} />;
}

function Dashboard({ auth, token }: { auth: Auth; token: string }) {
  const [view, update] = useView();
  const me = useQuery({
    queryKey: ["me", token],
    queryFn: () => unwrap(api.GET("/api/me")),
    staleTime: 5 * 60_000,
  });

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true" /> Headroom
        </div>
        <div className="who" data-testid="who">
          {me.data && (
            <>
              <span className="name" title={me.data.user.email}>
                {me.data.user.name || me.data.user.email}
              </span>
              <span className={`badge role-${me.data.role}`}>{me.data.role}</span>
            </>
          )}
          <button type="button" className="ghost" onClick={() => auth.signOut()} data-testid="signout">
            Sign out
          </button>
        </div>
      </header>
      <main className="content">
        {me.isPending ? (
          <Loading what="your account" />
        ) : me.isError ? (
          <ErrorNotice error={me.error} what="your account" onRetry={() => void me.refetch()} />
        ) : (
          <>
            {view.resource !== null && <ResourceDetail key={view.resource} id={view.resource} view={view} update={update} />}
            <ResourceList view={view} update={update} />
          </>
        )}
      </main>
    </div>
  );
}
