"""Alerting: rules over forecasts, runway, costs and anomalies; an outbox; channels to Slack, Grafana,
Alertmanager, PagerDuty, e-mail and signed webhooks. Task names live here so services.tasks can schedule them."""

TASK_CHECK_FOR_ALERTS = "headroom.check_for_alerts"
TASK_EVALUATE_ALERT_RULE = "headroom.evaluate_alert_rule"
TASK_CHECK_FOR_ALERT_DELIVERIES = "headroom.check_for_alert_deliveries"
TASK_DELIVER_ALERT_CHANNEL = "headroom.deliver_alert_channel"
