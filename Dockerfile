# syntax=docker/dockerfile:1
# One image for every process of the distributed mode; the command picks it:
#   headroom serve | headroom worker | headroom beat | headroom migrate
# Stage 1 builds the dashboard with node, stage 2 installs the pinned Python packages into a venv, stage 3 is
# a slim runtime with that venv, the built dashboard and config/, run as a non-root user. Nothing is
# downloaded when a container starts.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run gen && npm run build

FROM python:3.11-slim-bookworm AS python-build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api/ api/
COPY collector/ collector/
COPY ml_engine/ ml_engine/
COPY services/ services/
# the same pinned install as `make install`, less the dev tools: versions come from pyproject.toml
RUN pip install --upgrade pip && pip install ".[ml,cloud]"

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 headroom \
 && useradd --system --uid 10001 --gid headroom --home-dir /app --no-create-home --shell /usr/sbin/nologin headroom
COPY --from=python-build /opt/venv /opt/venv
WORKDIR /app
COPY config/ config/
COPY tests/fixtures/nab/ tests/fixtures/nab/
COPY --from=frontend /src/frontend/dist/ frontend/dist/
RUN mkdir -p /app/var /app/artifacts && chown headroom:headroom /app/var /app/artifacts
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HEADROOM_CONFIG_DIR=/app/config \
    HEADROOM_DATA_DIR=/app/var \
    HEADROOM_FRONTEND_DIST=/app/frontend/dist \
    HEADROOM_API_HOST=0.0.0.0 \
    HEADROOM_DEPLOY__LOG_FORMAT=json
USER 10001:10001
EXPOSE 8000 9808
# Every process can answer this: are the database, the metric store and the broker reachable?
# docker-compose.yml and k8s/ give api and worker sharper probes (/api/ready, headroom worker-ping).
HEALTHCHECK --interval=30s --timeout=15s --start-period=30s --retries=3 CMD ["headroom", "ready"]
CMD ["headroom", "serve"]
