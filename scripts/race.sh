#!/usr/bin/env bash
# The main job: set up lagrace, then race (by default the embedded simulated cluster, buggy mode).
# Extra arguments go to `lagrace run` (e.g. --sim-mode fixed, or --nodes URL,URL,URL --logs ...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/lagrace run "$@"
