# The floorwatch image: collector (`floorwatch ingest`), API (`floorwatch serve`), analytics and
# the other commands. docker-compose.yml builds it once for the collector and the API.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md* ./
COPY floorwatch/ floorwatch/
COPY ingest/ ingest/
COPY analytics/ analytics/
COPY api/ api/
COPY dashboards/ dashboards/
COPY simulators/ simulators/
COPY showcase/ showcase/
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
COPY deploy/healthcheck.py /usr/local/bin/floorwatch-healthcheck
# An unprivileged user; its state folders exist in the image so named volumes inherit the owner.
RUN chmod 0755 /usr/local/bin/floorwatch-healthcheck \
    && useradd --system --uid 10001 --home-dir /var/lib/floorwatch floorwatch \
    && mkdir -p /var/lib/floorwatch/spool /var/lib/floorwatch/reports \
    && chown -R floorwatch /var/lib/floorwatch
USER floorwatch
WORKDIR /var/lib/floorwatch
ENTRYPOINT ["floorwatch"]
CMD ["--help"]
