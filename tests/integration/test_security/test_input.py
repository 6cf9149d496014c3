"""Bad input is a 4xx that names the problem: ids past the database's range, CSVs out of bounds, unknown values."""

from __future__ import annotations

import pytest

from collector.records import Resource
from services.db.engine import session_scope
from services.ingest.ingest import upsert_resources
from tests.integration.test_security.conftest import Api

HUGE = 2**63
ID_ROUTES = [
    ("GET", "/api/resources/{id}"), ("GET", "/api/recommendations/{id}"),
    ("POST", "/api/recommendations/{id}/accept"), ("POST", "/api/recommendations/{id}/implement"),
    ("POST", "/api/recommendations/{id}/dismiss"), ("POST", "/api/recommendations/{id}/verify"),
    ("GET", "/api/scenarios/{id}"), ("DELETE", "/api/scenarios/{id}"), ("GET", "/api/scenarios/{id}/compare"),
    ("DELETE", "/api/alerts/silences/{id}"), ("DELETE", "/api/tokens/{id}"),
]


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
@pytest.mark.parametrize("row_id", [HUGE, 2**31, 0])
def test_ids_outside_the_database_range_are_422(api: Api, method: str, path: str, row_id: int) -> None:
    r = api.client.request(method, path.format(id=row_id), headers=api.as_("admin"), json={"reason": "x"})
    assert r.status_code == 422, r.text
    assert "path parameter" in r.json()["detail"]


def _upload(api: Api, csv: bytes) -> str:
    r = api.client.post("/api/forecasts/adhoc", headers=api.as_("viewer"), files={"file": ("u.csv", csv)})
    assert r.status_code == 422, r.text
    detail: str = r.json()["detail"]
    return detail


@pytest.mark.parametrize("stamp", ["0001-01-01", "9999-12-31", "9999-12-31T23:00:00-05:00", "99999999999999999"])
def test_csv_dates_outside_the_range_are_422(api: Api, stamp: str) -> None:
    assert f"line 3: timestamp '{stamp}'" in _upload(api, f"timestamp,value\n2026-01-01,1\n{stamp},2\n".encode())


def test_a_csv_field_over_the_field_limit_is_422(api: Api) -> None:
    detail = _upload(api, b'timestamp,value\n2026-01-01,"' + b"1" * 200_000 + b'"\n')
    assert "line 2: field larger than field limit" in detail


@pytest.mark.parametrize(("path", "problem"), [
    ("/api/fleet?tag=foo", "no resource here has the tag 'foo': known tag keys are team"),
    ("/api/fleet?tag==x", "query parameter 'tag'"),
    ("/api/runway?group_by=bogus", "query parameter 'group_by'"),
    ("/api/runway?limit=0", "query parameter 'limit'"),
    ("/api/runway?" + "&".join(f"resource_key=aws:i-{n}" for n in range(201)), "query parameter 'resource_key'"),
    ("/api/models?series_id=x&stat=bogus", "query parameter 'stat'"),
    ("/api/alerts?state=bogus", "query parameter 'state'"),
])
def test_unknown_query_values_are_422(api: Api, path: str, problem: str) -> None:
    with session_scope(api.settings.database_url) as session:
        upsert_resources(session, [Resource(resource_id="i-1", provider="aws", name="web-1", tags={"team": "a"})])
    r = api.client.get(path, headers=api.as_("viewer"))
    assert r.status_code == 422, r.text
    assert problem in r.json()["detail"]


@pytest.mark.parametrize(("path", "body", "problem"), [
    ("/api/scenarios", {"name": "s", "growht": {"percent": 5}}, "body field 'growht': Extra inputs"),
    ("/api/scenarios", {"name": "s\x1b[31mred"}, "body field 'name'"),
    ("/api/tokens", {"name": "t", "email": "not an email <script>"}, "body field 'email'"),
    ("/api/tokens", {"name": "t\x1b[2J"}, "body field 'name'"),
    ("/api/alerts/silences", {"minutes": 5, "comment": "ok", "extra": 1}, "body field 'extra'"),
])
def test_invalid_bodies_are_422(api: Api, path: str, body: dict[str, object], problem: str) -> None:
    r = api.client.post(path, json=body, headers=api.as_("admin"))
    assert r.status_code == 422, r.text
    assert problem in r.json()["detail"]
