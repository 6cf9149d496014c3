"""Ingestion: sources built from settings, and the watermark-keyed path from a collector into the stores."""
