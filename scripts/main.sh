#!/usr/bin/env bash
# The main job: sets up Floorwatch and runs the one-command demo on embedded defaults.
#   bash scripts/main.sh              # the demo
#   bash scripts/main.sh --days 30    # extra arguments go to `floorwatch demo`
source "$(dirname "$0")/_setup.sh"
setup_venv ""
if .venv/bin/floorwatch --help 2>/dev/null | grep -q " demo "; then
    exec .venv/bin/floorwatch demo "$@"
fi
# Until the demo lands: validate the shipped example pilot.
exec .venv/bin/floorwatch registry validate floorwatch/pilot
