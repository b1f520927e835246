#!/usr/bin/env bash
# Set up .venv (Python >= 3.11) with lagrace installed editable; with "dev", also the test tools
# (pytest, mypy, ruff, hypothesis, jsonschema) and, for the browser test, Debian's chromium.
# Idempotent: a second run only checks. Used by scripts/race.sh and scripts/check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
want_dev=${1:-}

find_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "lagrace: needs Python >= 3.11 (none found on PATH)" >&2
  return 1
}

stamp=.venv/.lagrace-installed${want_dev:+-dev}
if [ ! -x .venv/bin/python ]; then
  py=$(find_python)
  "$py" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "lagrace: installing into .venv (log: .venv/pip.log)" >&2
  pip_quiet() {
    .venv/bin/python -m pip install --disable-pip-version-check "$@" >>.venv/pip.log 2>&1 ||
      { cat .venv/pip.log >&2; echo "lagrace: pip install failed" >&2; exit 1; }
  }
  pip_quiet --upgrade "pip>=25.1"
  if [ "$want_dev" = dev ]; then
    pip_quiet -e . --group dev
  else
    pip_quiet -e .
  fi
  touch "$stamp"
fi

# Debian packages the dev tier uses: chromium (the HTML report's browser test) and shellcheck
# (lint of the shell scripts). Without root or apt-get those tests skip and say why.
if [ "$want_dev" = dev ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "lagrace: installing Debian packages for the test suite: ${missing[*]}" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "lagrace: not installed: ${missing[*]}; the tests that need them will skip" >&2
    fi
  fi
fi
