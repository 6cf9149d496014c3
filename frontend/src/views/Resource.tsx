// A resource page: facts, usage with forecast bands over a chosen range, forecast accuracy, members and recommendations.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { allows, type Role } from "../App";
import { useCapabilities } from "../capabilities";
import { Link } from "../components/Link";
import { RecommendationList } from "../components/RecommendationList";
import { resourceKey } from "../components/RunwayPanel";
import { ResourceDetail } from "../components/ResourceDetail";
import { Empty, ErrorNotice, Loading, NotAvailable } from "../components/StateViews";

/** Where "back" goes: the overview link the person came from (kept in ?back=), never another site. */
export function backTarget(params: URLSearchParams): string {
  const back = params.get("back") ?? "";
  return back.startsWith("/") && !back.startsWith("//") ? back : "/";
}

export function ResourceView({ id, params, role }: { id: number; params: URLSearchParams; role: Role }) {
  const resource = useQuery({
    queryKey: ["resource", id],
    queryFn: () => unwrap(api.GET("/api/resources/{resource_pk}", { params: { path: { resource_pk: id } } })),
  });
  const { caps, ready } = useCapabilities();
  const r = resource.data;
  return (
    <>
      <div className="page-head">
        <Link to={backTarget(params)} className="back" data-testid="back">
          ← Back to the fleet
        </Link>
        <h1 className="page-title" id="detail-title">
          {r ? r.name || r.resource_id : "Resource"}
        </h1>
      </div>
      <section className="card detail" aria-labelledby="detail-title" data-testid="resource-detail">
        {resource.isPending ? (
          <Loading what="the resource" />
        ) : resource.isError ? (
          <ErrorNotice error={resource.error} what="the resource" onRetry={() => void resource.refetch()} />
        ) : (
          <ResourceDetail resource={resource.data} params={params} />
        )}
      </section>
      {ready && r && (
        <section className="card" aria-labelledby="recs-title" data-testid="resource-recommendations">
          <h2 id="recs-title">Recommendations for this resource</h2>
          {caps.has("/api/recommendations") ? (
            <ResourceRecommendations resourceKey={resourceKey(r)} canEdit={allows(role, "editor")} />
          ) : (
            <NotAvailable what="Recommendations" route="GET /api/recommendations" issue="the recommendations issue adds it" />
          )}
        </section>
      )}
    </>
  );
}

function ResourceRecommendations({ resourceKey: key, canEdit }: { resourceKey: string; canEdit: boolean }) {
  const recs = useQuery({
    queryKey: ["recommendations", { resource: key }],
    queryFn: () => unwrap(api.GET("/api/recommendations", { params: { query: { resource: key, size: 50 } } })),
  });
  if (recs.isPending) return <Loading what="recommendations" />;
  if (recs.isError) return <ErrorNotice error={recs.error} what="recommendations" />;
  if (recs.data.items.length === 0) return <Empty testId="resource-recs-empty">No recommendation for this resource.</Empty>;
  return <RecommendationList items={recs.data.items} canEdit={canEdit} />;
}
