// The page: sign-in until a token is accepted, then the shell (navigation, who is signed in) and one view.
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState } from "react";
import { api, unwrap, type Me } from "./api/client";
import type { Auth } from "./auth";
import { Link } from "./components/Link";
import { SignIn } from "./components/SignIn";
import { ZonePicker } from "./components/ZonePicker";
import { ErrorNotice, Forbidden, Loading } from "./components/StateViews";
import { useRoute, type ViewName } from "./urlState";
import { OverviewView } from "./views/Overview";

// Views other than the overview load on first use, so signing in does not wait for the chart library.
const AutoscalingView = lazy(() => import("./views/Autoscaling").then((m) => ({ default: m.AutoscalingView })));
const AdminView = lazy(() => import("./views/Admin").then((m) => ({ default: m.AdminView })));
const ExecutiveView = lazy(() => import("./views/Executive").then((m) => ({ default: m.ExecutiveView })));
const RecommendationsView = lazy(() => import("./views/Recommendations").then((m) => ({ default: m.RecommendationsView })));
const ReportsView = lazy(() => import("./views/Reports").then((m) => ({ default: m.ReportsView })));
const ResourceView = lazy(() => import("./views/Resource").then((m) => ({ default: m.ResourceView })));
const ScenariosView = lazy(() => import("./views/Scenarios").then((m) => ({ default: m.ScenariosView })));
const UploadView = lazy(() => import("./views/Upload").then((m) => ({ default: m.UploadView })));

export type Role = Me["role"];
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };
export const allows = (role: Role, need: Role): boolean => RANK[role] >= RANK[need];

interface NavItem {
  view: ViewName;
  to: string;
  label: string;
  need: Role;
}

export const NAV: NavItem[] = [
  { view: "overview", to: "/", label: "SRE overview", need: "viewer" },
  { view: "executive", to: "/executive", label: "Executive", need: "viewer" },
  { view: "recommendations", to: "/recommendations", label: "Recommendations", need: "viewer" },
  { view: "scenarios", to: "/scenarios", label: "Scenarios", need: "viewer" },
  { view: "autoscaling", to: "/autoscaling", label: "Autoscaling", need: "viewer" },
  { view: "reports", to: "/reports", label: "Reports", need: "viewer" },
  { view: "upload", to: "/upload", label: "Your data", need: "viewer" },
  { view: "admin", to: "/admin", label: "Admin", need: "admin" },
];

const TITLES: Record<ViewName, string> = {
  overview: "SRE overview",
  resource: "Resource",
  executive: "Executive view",
  recommendations: "Recommendations",
  scenarios: "Scenarios",
  autoscaling: "Predictive autoscaling",
  reports: "Reports",
  upload: "Forecast your own data",
  admin: "Admin",
  "not-found": "Page not found",
};

export function App({ auth }: { auth: Auth }) {
  if (!auth.token) return <SignIn notice={auth.notice} onSignedIn={auth.signIn} />;
  return <Dashboard auth={auth} token={auth.token} />;
}

function Dashboard({ auth, token }: { auth: Auth; token: string }) {
  const route = useRoute();
  const me = useQuery({
    queryKey: ["me", token],
    queryFn: () => unwrap(api.GET("/api/me")),
    staleTime: 5 * 60_000,
  });
  useEffect(() => {
    document.title = `${TITLES[route.view]} · Headroom`;
  }, [route.view]);
  const role = me.data?.role;
  // on a phone the views sit behind a menu button; opening a view closes it
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [route.view, route.id]);

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true" /> Headroom
        </div>
        <ZonePicker />
        <div className="who" data-testid="who">
          {me.data && (
            <>
              <span className="name" title={me.data.user.email}>
                {me.data.user.name || me.data.user.email}
              </span>
              <span className={`badge role-${me.data.role}`} data-testid="role">
                {me.data.role}
              </span>
            </>
          )}
          <button type="button" className="ghost" onClick={() => auth.signOut()} data-testid="signout">
            Sign out
          </button>
        </div>
      </header>
      <nav className={`mainnav${menuOpen ? " open" : ""}`} aria-label="Views">
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="views-menu"
          onClick={() => setMenuOpen((o) => !o)}
          data-testid="menu-toggle"
        >
          ☰ Menu: {NAV.find((n) => n.view === route.view)?.label ?? TITLES[route.view]}
        </button>
        <ul id="views-menu">
          {NAV.filter((n) => role && allows(role, n.need)).map((n) => (
            <li key={n.view}>
              <Link
                to={n.to}
                aria-current={route.view === n.view || (n.view === "overview" && route.view === "resource") ? "page" : undefined}
                data-testid={`nav-${n.view}`}
              >
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content" id="main">
        {me.isPending ? (
          <Loading what="your account" />
        ) : me.isError ? (
          <ErrorNotice error={me.error} what="your account" onRetry={() => void me.refetch()} />
        ) : (
          <Suspense fallback={<Loading what="the view" />}>
            <CurrentView me={me.data} />
          </Suspense>
        )}
      </main>
    </div>
  );
}

function CurrentView({ me }: { me: Me }) {
  const route = useRoute();
  const item = NAV.find((n) => n.view === route.view);
  if (item && !allows(me.role, item.need)) return <Forbidden need={item.need} role={me.role} />;
  switch (route.view) {
    case "overview":
      return <OverviewView params={route.params} />;
    case "resource":
      return <ResourceView id={route.id ?? 0} params={route.params} role={me.role} />;
    case "executive":
      return <ExecutiveView />;
    case "recommendations":
      return <RecommendationsView params={route.params} role={me.role} />;
    case "scenarios":
      return <ScenariosView role={me.role} />;
    case "autoscaling":
      return <AutoscalingView />;
    case "reports":
      return <ReportsView />;
    case "upload":
      return <UploadView role={me.role} />;
    case "admin":
      return <AdminView />;
    default:
      return (
        <section className="card" data-testid="not-found">
          <h1>Page not found</h1>
          <p>
            There is no page at <code>{window.location.pathname}</code>. <Link to="/">Go to the SRE overview</Link>.
          </p>
        </section>
      );
  }
}
