"""Real servers on loopback for tests, benchmarks and screenshots: PostgreSQL, Redis, InfluxDB, Celery, the demo."""
