#!/usr/bin/env bash
# The whole test suite: set up .venv with the dev tools, then ruff (lint + format), mypy --strict
# and pytest (pure, sim, fault and browser tiers; the qdrant tier runs when LAGRACE_QDRANT_BIN
# points to a Qdrant built with the `staging` feature, and skips otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== pytest" && .venv/bin/pytest "$@"
