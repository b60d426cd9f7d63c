#!/usr/bin/env bash
# The test command: sets up everything it needs, then runs the linters and the whole test suite
# against real Mosquitto, real InfluxDB, real SQLite and a real browser.
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -k store   # extra arguments go to pytest
source "$(dirname "$0")/_setup.sh"
install_debs mosquitto:mosquitto mosquitto_passwd:mosquitto-clients influxd:influxdb chromium:chromium
setup_venv dev
say "ruff"
.venv/bin/ruff check .
say "mypy"
.venv/bin/mypy floorwatch ingest analytics api dashboards simulators showcase tests
say "pytest"
.venv/bin/python -m pytest "$@"
