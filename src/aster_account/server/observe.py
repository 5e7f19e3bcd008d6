"""What the service tells its operator: one structured log line per request, Prometheus metrics.

The log line is JSON with the fields a venue greps for (time, ip, method, path, HTTP status,
Aster code, milliseconds, weight, account). Nothing secret is ever in it: no query string (it
carries the signature), no API key, no body.
"""

from __future__ import annotations

import logging
import time

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("aster_account.requests")


class Metrics:
    """A registry per app, so that several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "aster_requests_total",
            "API requests by endpoint, HTTP status and Aster error code (0 = success).",
            ["endpoint", "status", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "aster_request_seconds",
            "Time from the request's arrival to its response, by endpoint.",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        # the labelled series, found once: prometheus_client's labels() checks and joins the
        # label values on every call
        self._series: dict[tuple[str, int, int], tuple[Counter, Histogram]] = {}

    def request(
        self,
        *,
        endpoint: str,
        method: str,
        path: str,
        ip: str,
        status: int,
        code: int,
        seconds: float,
        weight: int | None,
        account_id: int | None,
    ) -> None:
        series = self._series.get((endpoint, status, code))
        if series is None:
            series = self._series[endpoint, status, code] = (
                self.requests.labels(endpoint, str(status), str(code)),
                self.latency.labels(endpoint),
            )
        series[0].inc()
        series[1].observe(seconds)
        if log.isEnabledFor(logging.INFO):
            log.info(
                orjson.dumps(
                    {
                        "ts": int(time.time() * 1000),
                        "ip": ip,
                        "method": method,
                        "path": path,
                        "endpoint": endpoint,
                        "status": status,
                        "code": code,
                        "ms": round(seconds * 1000, 3),
                        "weight": weight,
                        "account": account_id,
                    }
                ).decode()
            )

    async def endpoint(self, _request: Request) -> Response:
        return Response(_generate(self.registry), media_type=CONTENT_TYPE_LATEST)
