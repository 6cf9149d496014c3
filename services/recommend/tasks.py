"""Celery task of the recommendation engine: the daily fleet refresh, run a while after the daily training.

The refresh is one task over the whole fleet, not one per resource: deduplication and commitment sizing need every
resource's recommendations at once. It is idempotent (open rows are updated in place) and takes a non-blocking
lock, so a second beat or a manual run at the same time does nothing.
"""

from __future__ import annotations

from services.recommend import TASK_REFRESH_RECOMMENDATIONS
from services.settings import get_settings
from services.tasks import app, non_blocking_lock


@app.task(name=TASK_REFRESH_RECOMMENDATIONS, soft_time_limit=30 * 60)
def refresh_recommendations_task() -> dict[str, int]:
    """Recommend over the fleet from today's forecasts and store the outcome; {} when another refresh runs."""
    from services.recommend.refresh import refresh_recommendations

    settings = get_settings()
    with non_blocking_lock("refresh_recommendations", settings) as got:
        if not got:
            return {}
        return refresh_recommendations(settings).as_dict()
