"""The autoscaling_max rule: fires for groups whose 48-hour plan needs their maximum size, from the recommendations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from services.alerting.params import RuleParamsError, check_params
from services.alerting.rules import EVALUATORS, RuleView
from services.db.engine import session_scope
from services.db.models import RecommendationRow, ResourceRow

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with session_scope(db_url) as s:
        for name, env, peak, max_size in (("web", "production", 16, 16), ("api", "staging", 9, 12),
                                          ("jobs", "production", 5, None)):
            row = ResourceRow(provider="aws", resource_id=f"asg/{name}", name=name, kind="asg", environment=env)
            s.add(row)
            s.flush()
            s.add(RecommendationRow(resource_pk=row.id, resource_key=f"aws:asg/{name}", dedupe_key=f"as-{name}",
                                    kind="autoscaling", finding="over_provisioned", title=name, current={},
                                    proposed={"peak_instances_48h": peak, "max_size": max_size}))
        s.flush()
        yield s


def run(session: Session, params: dict[str, object], scope: dict[str, object] | None = None) -> list[str]:
    rule = RuleView("r", "autoscaling_max", check_params("autoscaling_max", params), scope or {})
    return [f.subject for f in EVALUATORS["autoscaling_max"](session, rule, NOW)]


def test_fires_at_the_maximum_size_or_within_the_margin_and_honours_scope(session: Session) -> None:
    assert run(session, {}) == ["aws:asg/web/max_size"]
    assert run(session, {"margin_instances": 3}) == ["aws:asg/api/max_size", "aws:asg/web/max_size"]
    assert run(session, {"margin_instances": 3}, {"environment": "staging"}) == ["aws:asg/api/max_size"]


def test_a_wrong_margin_is_refused_by_name() -> None:
    with pytest.raises(RuleParamsError, match="margin_instances"):
        check_params("autoscaling_max", {"margin_instances": -1})
