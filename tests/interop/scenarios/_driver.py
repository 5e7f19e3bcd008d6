"""The line protocol between a test and a peer client running in the peer's own virtual env.

This file runs inside the peer's venv, so it imports nothing but the standard library. A peer
script builds its client(s) and hands a `Session` to `serve` (sync) or `serve_async`.

The test writes one JSON object per line on stdin; the script answers one per line on the
protocol stream (the original stdout; anything the peer prints goes to stderr):

    {"op": "open", "name": "alice", "config": {...}}      make a client called "alice"
    {"op": "call", "name": "alice", "method": "fetch_balance", "args": [], "kwargs": {}}
    {"op": "start", ...same as call...}                    async only: run it in the background
    {"op": "wait", "task": 1, "timeout": 10}               async only: the started call's answer

Every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": {...}}``, with the
request's ``"id"`` and ``"http"``: every HTTP exchange the peer made while serving that line
(method, URL, body, whether the API-key header was there, status and the answer's text), so the
test sees exactly what the peer sent without changing how it sends it.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

ANSWER_TEXT_LIMIT = 4000


def _plain(value: Any) -> Any:
    """JSON-safe copy: numbers and strings stay what they are, anything else becomes text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def describe_error(exc: BaseException) -> dict[str, Any]:
    attrs = {}
    for name in ("status_code", "error_code", "error_message", "code", "message"):
        value = getattr(exc, name, None)
        if isinstance(value, int | str) and not isinstance(value, bool):
            attrs[name] = value
    return {
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__ if c not in (object, BaseException)],
        "message": str(exc)[:ANSWER_TEXT_LIMIT],
        "attrs": attrs,
    }


class Session:
    """Clients by name, and the HTTP exchanges seen since the last answer."""

    def __init__(self, factory: Callable[[dict[str, Any]], Any]) -> None:
        self.factory = factory
        self.clients: dict[str, Any] = {}
        self.http: list[dict[str, Any]] = []
        self.tasks: dict[int, Any] = {}

    def record(
        self,
        method: str,
        url: str,
        body: Any,
        has_key: bool,
        status: int | None,
        text: str | None,
    ) -> None:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        self.http.append(
            {
                "method": method.upper(),
                "url": url,
                "path": urlsplit(url).path,
                "query": urlsplit(url).query,
                "body": body if isinstance(body, str) else None,
                "has_key": has_key,
                "status": status,
                "text": (text or "")[:ANSWER_TEXT_LIMIT],
            }
        )

    def requests_hook(self, response: Any, *_args: Any, **_kwargs: Any) -> Any:
        """A `requests` response hook: what the peer sent and what came back."""
        sent = response.request
        self.record(
            sent.method,
            sent.url,
            sent.body,
            "X-MBX-APIKEY" in sent.headers,
            response.status_code,
            response.text,
        )
        return response

    def take_http(self) -> list[dict[str, Any]]:
        seen, self.http = self.http, []
        return seen

    def answer(self, msg: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
        outcome["id"] = msg.get("id")
        outcome["http"] = self.take_http()
        return outcome


def _write(stream: Any, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message, default=str) + "\n")
    stream.flush()


def _protocol_stream() -> Any:
    # The peer may print; keep the protocol on a private copy of stdout and send prints to stderr.
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


def serve(session: Session, hello: dict[str, Any]) -> None:
    out = _protocol_stream()
    _write(out, {"ok": True, "result": hello})
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        try:
            if msg["op"] == "open":
                session.clients[msg["name"]] = session.factory(msg.get("config") or {})
                result: Any = None
            elif msg["op"] == "call":
                client = session.clients[msg["name"]]
                fn = getattr(client, msg["method"])
                result = fn(*msg.get("args", []), **msg.get("kwargs", {}))
            else:
                raise ValueError(f"unknown op {msg['op']!r}")
            _write(out, session.answer(msg, {"ok": True, "result": _plain(result)}))
        except Exception as exc:
            traceback.print_exc()
            _write(out, session.answer(msg, {"ok": False, "error": describe_error(exc)}))


async def serve_async(
    session: Session,
    hello: dict[str, Any],
    ready: Callable[[Any], Any] | None = None,
) -> None:
    """Like `serve`, for asyncio peers; `start` runs a call in the background and answers once
    `ready(client)` is true (e.g. its websocket is connected) or the call has ended."""
    out = _protocol_stream()
    loop = asyncio.get_running_loop()
    _write(out, {"ok": True, "result": hello})
    next_task = 0
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        if not line.strip():
            continue
        msg = json.loads(line)
        try:
            op = msg["op"]
            if op == "open":
                session.clients[msg["name"]] = session.factory(msg.get("config") or {})
                result: Any = None
            elif op in ("call", "start"):
                client = session.clients[msg["name"]]
                fn = getattr(client, msg["method"])
                call = fn(*msg.get("args", []), **msg.get("kwargs", {}))
                if op == "call":
                    result = await call
                else:
                    next_task += 1
                    task = asyncio.ensure_future(call)
                    session.tasks[next_task] = task
                    deadline = loop.time() + float(msg.get("timeout", 10))
                    while not task.done() and loop.time() < deadline:
                        if ready is not None and ready(client):
                            break
                        await asyncio.sleep(0.02)
                    result = {"task": next_task, "done": task.done()}
            elif op == "wait":
                task = session.tasks.pop(msg["task"])
                result = await asyncio.wait_for(task, float(msg.get("timeout", 10)))
            else:
                raise ValueError(f"unknown op {op!r}")
            _write(out, session.answer(msg, {"ok": True, "result": _plain(result)}))
        except Exception as exc:
            traceback.print_exc()
            _write(out, session.answer(msg, {"ok": False, "error": describe_error(exc)}))
