# kanban-api's image: `docker build -t kanban-api .`, or `docker compose up` (compose.yaml).
# Two stages: the first installs the locked dependencies and the package into a virtual
# environment; the second copies only that environment onto a clean base, runs as a user
# without privileges and migrates the database on start unless KANBAN_MIGRATE_ON_START=0.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
RUN python3 -m venv /opt/kanban-api
COPY requirements/main.txt requirements/main.txt
RUN /opt/kanban-api/bin/pip install --no-cache-dir --disable-pip-version-check \
        --require-hashes -r requirements/main.txt
COPY pyproject.toml README.md LICENSE ./
COPY kanban_api kanban_api
RUN /opt/kanban-api/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps . \
    && find /opt/kanban-api -name '__pycache__' -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/kanban-api \
        kanban-api
COPY --from=build /opt/kanban-api /opt/kanban-api
COPY docker/entrypoint.sh /usr/local/bin/kanban-api-entrypoint
ENV PATH=/opt/kanban-api/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KANBAN_ENV=production \
    KANBAN_MIGRATE_ON_START=1 \
    KANBAN_SECRET_KEY_FILE=/var/lib/kanban-api/secret-key
USER kanban-api
WORKDIR /var/lib/kanban-api
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=4)"]
ENTRYPOINT ["kanban-api-entrypoint"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
