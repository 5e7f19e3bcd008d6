#!/usr/bin/env python3
"""Reliability and security figures for the account service, from repeatable tests.

    python scripts/reliability.py             short mode (a few minutes; what CI runs)
    python scripts/reliability.py --full      full sizes: 10,000 fuzzed requests, 2,000 operations
                                              under SIGKILL, 10 minutes of soak
    python scripts/reliability.py --only fuzz,races

Parts (see scripts/reliability/): fuzz, crash, races, auth, ratelimit, soak. Each starts its own
servers (`aster-account serve` subprocesses on free loopback ports) on fresh databases: SQLite
files in a temporary directory and, where PostgreSQL is reachable (ASTER_TEST_PG_URL, default
postgresql://root@127.0.0.1:5432/test), fresh schemas that are dropped afterwards.

Progress goes to stderr; stdout gets one JSON object, last, with the figures: `requests_fuzzed`,
`server_errors` (5xx answers seen by any part), `lost_or_duplicated` (operations after the crash
runs), `overdrafts`, each part's own figures, and `failures` (every check that did not hold).
The exit status is 0 when `failures` is empty, 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _reexec_in_venv() -> None:
    """`python scripts/reliability.py` from any Python: use the project's .venv when this one
    lacks the package or the dev dependencies."""
    if importlib.util.find_spec("aster_account") and importlib.util.find_spec("hypothesis"):
        return
    venv_python = ROOT / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
        os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])
    sys.exit("aster_account and hypothesis are needed: run scripts/test once (it makes .venv)")


_reexec_in_venv()
sys.path.insert(0, str(HERE))

from reliability import run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="full sizes (about 20 minutes)")
    parser.add_argument(
        "--only", default="", help=f"comma-separated parts, from: {', '.join(run.PARTS)}"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, db)")
    args = parser.parse_args()
    only = [p for p in args.only.split(",") if p]
    if unknown := set(only) - set(run.PARTS):
        parser.error(f"unknown parts: {sorted(unknown)}")
    sizes = run.FULL if args.full else run.SHORT
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aster-reliability-") as tmp:
        workdir = Path(tmp)
        report = run.run_all(workdir, sizes, only or list(run.PARTS))
        if args.keep:
            kept = Path(tempfile.mkdtemp(prefix="aster-reliability-kept-"))
            os.rename(workdir, kept / "work")
            workdir.mkdir()
            print(f"work directory kept in {kept / 'work'}", file=sys.stderr)
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2, sort_keys=False))
    return 0 if not report["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
