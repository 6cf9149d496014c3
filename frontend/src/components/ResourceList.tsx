// The resource table: server-side pagination and filters whose values live in the URL.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { api, unwrap, type Resource } from "../api/client";
import { DASH, fmtMemory, fmtNumber, fmtPrice } from "../format";
import { formatView, type ViewState } from "../urlState";
import { Empty, ErrorNotice, Loading } from "./StateViews";

const PAGE_SIZE = 50;
const KNOWN_PROVIDERS = ["aws", "gcp", "azure", "prometheus", "demo"];
const KNOWN_ENVIRONMENTS = ["production", "staging", "development"];

type Patch = (patch: Partial<ViewState>, opts?: { push?: boolean }) => void;

/** Options for a filter: the usual values plus any seen in answers so far and the current one. */
function useOptions(base: string[], seen: (string | undefined)[], current: string): string[] {
  const known = useRef(new Set(base));
  for (const v of seen) if (v) known.current.add(v);
  if (current) known.current.add(current);
  return [...known.current].sort();
}

export function ResourceList({ view, update }: { view: ViewState; update: Patch }) {
  const [text, setText] = useState(view.q);
  const written = useRef(view.q);
  // Debounce typing into the URL (and so into the query).
  useEffect(() => {
    if (text === written.current) return;
    const id = window.setTimeout(() => {
      written.current = text;
      update({ q: text, page: 1 });
    }, 300);
    return () => window.clearTimeout(id);
  }, [text, update]);
  // Back/forward changes the URL under us: follow it, but never undo what is being typed.
  useEffect(() => {
    if (view.q !== written.current) {
      written.current = view.q;
      setText(view.q);
    }
  }, [view.q]);

  const params = {
    page: view.page,
    size: PAGE_SIZE,
    provider: view.provider || undefined,
    environment: view.environment || undefined,
    q: view.q || undefined,
  };
  const resources = useQuery({
    queryKey: ["resources", params],
    queryFn: () => unwrap(api.GET("/api/resources", { params: { query: params } })),
    placeholderData: keepPreviousData,
  });

  const items = resources.data?.items ?? [];
  const providers = useOptions(KNOWN_PROVIDERS, items.map((r) => r.provider), view.provider);
  const environments = useOptions(KNOWN_ENVIRONMENTS, items.map((r) => r.environment), view.environment);
  const total = resources.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const filtered = Boolean(view.provider || view.environment || view.q);

  return (
    <section className="card" aria-labelledby="resources-title" data-testid="resource-list">
      <div className="section-head">
        <h2 id="resources-title">Resources</h2>
        {resources.data && (
          <span className="muted" data-testid="resource-total">
            {total.toLocaleString()} {total === 1 ? "resource" : "resources"}
          </span>
        )}
      </div>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Provider</span>
          <select
            value={view.provider}
            onChange={(e) => update({ provider: e.target.value, page: 1 })}
            data-testid="filter-provider"
          >
            <option value="">All providers</option>
            {providers.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Environment</span>
          <select
            value={view.environment}
            onChange={(e) => update({ environment: e.target.value, page: 1 })}
            data-testid="filter-environment"
          >
            <option value="">All environments</option>
            {environments.map((env) => (
              <option key={env} value={env}>
                {env}
              </option>
            ))}
          </select>
        </label>
        <label className="grow">
          <span>Search</span>
          <input
            type="search"
            placeholder="Name, id, account, region, type…"
            value={text}
            onChange={(e) => setText(e.target.value)}
            data-testid="filter-q"
          />
        </label>
        {filtered && (
          <button
            type="button"
            className="link"
            onClick={() => {
              written.current = "";
              setText("");
              update({ provider: "", environment: "", q: "", page: 1 });
            }}
          >
            Clear filters
          </button>
        )}
      </form>

      {resources.isPending ? (
        <Loading what="resources" />
      ) : resources.isError ? (
        <ErrorNotice error={resources.error} what="resources" onRetry={() => void resources.refetch()} />
      ) : items.length === 0 ? (
        <Empty testId="resources-empty">
          {total > 0 ? (
            <>
              Page {view.page} is past the last page.{" "}
              <button type="button" className="link" onClick={() => update({ page: 1 })}>
                Go to the first page
              </button>
            </>
          ) : filtered
            ? "No resource matches these filters."
            : "No resources yet — run `headroom ingest` to discover your fleet."}
        </Empty>
      ) : (
        <>
          <div className={`table-wrap${resources.isFetching ? " refreshing" : ""}`}>
            <table className="resources">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Account</th>
                  <th scope="col">Region</th>
                  <th scope="col">Environment</th>
                  <th scope="col">Instance type</th>
                  <th scope="col" className="num">vCPU</th>
                  <th scope="col" className="num">Memory</th>
                  <th scope="col" className="num">Hourly price</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <ResourceRow
                    key={r.id}
                    resource={r}
                    selected={r.id === view.resource}
                    href={formatView({ ...view, resource: r.id, series: "" })}
                    onOpen={() => {
                      update({ resource: r.id, series: "" }, { push: true });
                      window.scrollTo({ top: 0, behavior: "smooth" });
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={view.page <= 1} onClick={() => update({ page: view.page - 1 })}>
              ← Previous
            </button>
            <span className="muted">
              Page {view.page} of {pages}
            </span>
            <button type="button" disabled={view.page >= pages} onClick={() => update({ page: view.page + 1 })}>
              Next →
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

interface RowProps {
  resource: Resource;
  selected: boolean;
  href: string;
  onOpen: () => void;
}

function ResourceRow({ resource: r, selected, href, onOpen }: RowProps) {
  return (
    <tr className={selected ? "selected" : undefined} aria-selected={selected} data-testid="resource-row">
      <td data-label="Name" className="name">
        <a
          href={href || "?"}
          onClick={(e) => {
            if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
            e.preventDefault();
            onOpen();
          }}
          data-testid="resource-link"
        >
          {r.name || r.resource_id}
        </a>
        <span className="sub">{r.kind}</span>
      </td>
      <td data-label="Provider">
        <span className={`badge provider-${r.provider}`}>{r.provider}</span>
      </td>
      <td data-label="Account" className="clip" title={r.account}>
        {r.account || DASH}
      </td>
      <td data-label="Region" className="clip" title={r.region}>
        {r.region || DASH}
      </td>
      <td data-label="Environment">{r.environment || DASH}</td>
      <td data-label="Instance type" className="mono">
        {r.instance_type || DASH}
      </td>
      <td data-label="vCPU" className="num">
        {fmtNumber(r.vcpus)}
      </td>
      <td data-label="Memory" className="num">
        {fmtMemory(r.memory_gib)}
      </td>
      <td data-label="Hourly price" className="num">
        {fmtPrice(r.hourly_price)}
      </td>
    </tr>
  );
}
