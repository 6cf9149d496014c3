"""Maintenance scripts: catalog build, env example, screenshots."""
