"""The relational store: engines, sessions and migrations."""
