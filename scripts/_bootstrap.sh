# Sourced by scripts/serve and scripts/test: makes .venv and installs the project into it
# when it is missing or pyproject.toml has changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv || return 1
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${1:-runtime}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip || return 1
  if [ "${1:-runtime}" = dev ]; then
    .venv/bin/python -m pip install --quiet -e '.[dev]' || return 1
  else
    .venv/bin/python -m pip install --quiet -e . || return 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
