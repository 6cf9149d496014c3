"""Forecasting operations: daily training, the model registry, the global network, accuracy and anomalies."""
