"""Predictive autoscaling: the protocol's simulator, its baselines, Headroom's forecast-driven policy, emitters."""
