"""Recommendations: right-sizing, idle, commitments, schedules, runway and scenarios. Task names live here so
services.tasks can schedule them without importing the engine."""

TASK_REFRESH_RECOMMENDATIONS = "headroom.refresh_recommendations"
