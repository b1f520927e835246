#!/usr/bin/env bash
# The whole test suite: set up .venv with the dev tools, then ruff (lint + format), mypy --strict
# and pytest (pure, sim, fault and browser tiers; the qdrant tier runs when LAGRACE_QDRANT_BIN
# points to a Qdrant built with the `staging` feature, and skips otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy --strict" && .venv/bin/mypy
# Two workers by default (LAGRACE_TEST_WORKERS): the sim tier mostly waits on races and halves its
# time; with a real Qdrant (LAGRACE_QDRANT_BIN / _FIXED) the default is one process, so two debug
# clusters never race each other for the CPU. Arguments after the script go to pytest.
if [[ -n "${LAGRACE_QDRANT_BIN:-}${LAGRACE_QDRANT_BIN_FIXED:-}" ]]; then
    workers="${LAGRACE_TEST_WORKERS:-0}"
else
    workers="${LAGRACE_TEST_WORKERS:-2}"
fi
echo "== pytest ($workers workers)" && .venv/bin/pytest -n "$workers" "$@"
