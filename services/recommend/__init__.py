"""Recommenders: plain functions from usage, forecasts, catalog and prices to explained recommendations."""
