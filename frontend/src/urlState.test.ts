import { describe, expect, it } from "vitest";
import { pageParam, parseRoute, queryString, rangeParam } from "./urlState";
import { backTarget } from "./views/Resource";

describe("routes in the URL", () => {
  it("reads the view from the path and the filters from the query string", () => {
    expect(parseRoute("/", "?provider=aws").view).toBe("overview");
    expect(parseRoute("/", "?provider=aws").params.get("provider")).toBe("aws");
    expect(parseRoute("/resources/12", "")).toMatchObject({ view: "resource", id: 12 });
    expect(parseRoute("/executive", "").view).toBe("executive");
    expect(parseRoute("/admin", "").view).toBe("admin");
  });

  it("sends unknown paths and bad ids to not-found", () => {
    expect(parseRoute("/resources/abc", "").view).toBe("not-found");
    expect(parseRoute("/resources/0", "").view).toBe("not-found");
    expect(parseRoute("/resource", "").view).toBe("not-found");
    expect(parseRoute("/nope/deeper", "").view).toBe("not-found");
  });

  it("writes short links: empty values are left out", () => {
    expect(queryString({ provider: "aws", q: "", page: null, tag: "team=core" })).toBe("?provider=aws&tag=team%3Dcore");
    expect(queryString({})).toBe("");
  });

  it("falls back to safe defaults for bad page and range values", () => {
    expect(pageParam(new URLSearchParams("page=-3"))).toBe(1);
    expect(pageParam(new URLSearchParams("page=4"))).toBe(4);
    expect(rangeParam(new URLSearchParams("range=5y"))).toBe("7d");
    expect(rangeParam(new URLSearchParams("range=90d"))).toBe("90d");
  });

  it("only goes back to a path on this site", () => {
    expect(backTarget(new URLSearchParams("back=/?provider=aws"))).toBe("/?provider=aws");
    expect(backTarget(new URLSearchParams("back=//evil.example"))).toBe("/");
    expect(backTarget(new URLSearchParams("back=https://evil.example"))).toBe("/");
  });
});
