#!/usr/bin/env bash
# The main job: sets up Floorwatch and runs the one-command demo on embedded defaults.
#   bash scripts/main.sh              # the demo
#   bash scripts/main.sh --days 30    # extra arguments go to `floorwatch demo`
source "$(dirname "$0")/_setup.sh"
setup_venv ""
exec .venv/bin/floorwatch demo "$@"
