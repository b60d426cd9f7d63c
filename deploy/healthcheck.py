#!/usr/bin/env python3
"""Docker health checks for the floorwatch image: `floorwatch-healthcheck collector|api`.

collector: healthy when it wrote its `ingest` counters to InfluxDB in the last two minutes (it
  writes them every FLOORWATCH_COUNTERS_INTERVAL_S, default 10 s), so a hung collector shows.
api: healthy when GET /health on the local port answers 200.
Exit code 0 = healthy, 1 = unhealthy (Docker's convention); the reason goes to stdout.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request

from floorwatch.settings import parse_store_url


def collector() -> str | None:
    target = parse_store_url(os.environ["FLOORWATCH_STORE_URL"])
    client_id = os.environ.get("FLOORWATCH_CLIENT_ID", "floorwatch-collector").replace("'", "")
    query = (
        'SELECT count("received") FROM "ingest" '
        f"WHERE time > now() - 2m AND \"collector\" = '{client_id}'"
    )
    params = {"db": target.database, "q": query}
    headers = {}
    if target.token:
        headers["Authorization"] = f"Token {target.token}"
    elif target.username:
        params.update(u=target.username, p=target.password or "")
    request = urllib.request.Request(
        f"{target.base_url}/query?{urllib.parse.urlencode(params)}", headers=headers
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.load(response)
    if not answer["results"][0].get("series"):
        return f"no ingest counters from {client_id} in the last 2 minutes"
    return None


def api() -> str | None:
    port = os.environ.get("FLOORWATCH_API_PORT", "8000")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
        return None if response.status == 200 else f"/health answered {response.status}"


def main() -> int:
    checks = {"collector": collector, "api": api}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        print("usage: floorwatch-healthcheck collector|api")
        return 2
    try:
        problem = checks[sys.argv[1]]()
    except Exception as exc:  # any failure to check is unhealthy, with its reason
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        print(f"unhealthy: {problem}")
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
