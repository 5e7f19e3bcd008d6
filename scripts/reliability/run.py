"""The parts in order, their sizes in the short and the full mode, and the report they make."""

from __future__ import annotations

import importlib
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reliability.harness import Part, pg_available, say


@dataclass(frozen=True)
class Sizes:
    fuzz_requests: int
    crash_clients: int
    crash_operations: int
    crash_kills: int
    race_requests: int
    rate_limit_bans: int
    rate_limit_hammer_s: float
    soak_capacity_s: float
    soak_s: float
    mode: str


SHORT = Sizes(
    fuzz_requests=2_500,
    crash_clients=32,
    crash_operations=500,
    crash_kills=3,
    race_requests=64,
    rate_limit_bans=3,
    rate_limit_hammer_s=4,
    soak_capacity_s=8,
    soak_s=45,
    mode="short",
)
FULL = Sizes(
    fuzz_requests=10_000,
    crash_clients=32,
    crash_operations=2_000,
    crash_kills=6,
    race_requests=64,
    rate_limit_bans=5,
    rate_limit_hammer_s=12,
    soak_capacity_s=20,
    soak_s=600,
    mode="full",
)

PARTS = ("fuzz", "crash", "races", "auth", "ratelimit", "soak")


def run_part(name: str, workdir: Path, sizes: Sizes, pg_reason: str | None) -> Part:
    module = importlib.import_module(f"reliability.{name}")
    started = time.monotonic()
    say(f"== {name}")
    try:
        kwargs: dict[str, Any] = {"sizes": sizes, "with_postgres": pg_reason is None}
        part: Part = module.run_part(workdir / name, **kwargs)
    except Exception as exc:  # a part that breaks is a failed check, and the others still run
        part = Part(name)
        part.failures.append(f"{name} did not complete: {exc!r}")
        part.figures["traceback"] = traceback.format_exc().splitlines()[-40:]
    part.figures.setdefault("seconds", round(time.monotonic() - started, 1))
    say(f"== {name}: {len(part.failures)} failed checks in {part.figures['seconds']} s")
    return part


def run_all(workdir: Path, sizes: Sizes, names: list[str]) -> dict[str, Any]:
    pg_reason = pg_available()
    if pg_reason:
        say(f"PostgreSQL parts skipped: {pg_reason}")
    parts = {name: run_part(name, workdir, sizes, pg_reason) for name in names}
    figures = {name: part.figures for name, part in parts.items()}
    failures = [f"{name}: {f}" for name, part in parts.items() for f in part.failures]
    total = {
        "mode": sizes.mode,
        "postgres": pg_reason is None,
        "requests_fuzzed": figures.get("fuzz", {}).get("requests_fuzzed", 0),
        "server_errors": sum(f.get("server_errors", 0) for f in figures.values()),
        "lost_or_duplicated": figures.get("crash", {}).get("lost_or_duplicated", 0),
        "overdrafts": sum(f.get("overdrafts", 0) for f in figures.values()),
    }
    if pg_reason:
        total["postgres_skipped"] = pg_reason
    return {**total, "sizes": asdict(sizes), **figures, "failures": failures}
