"""Aster error codes and the one exception tree both faces use.

(Skeleton: the full table of codes is being filled in; the API below is the contract.)

    AsterError(msg=None, *, http_status=None, headers=None, **details)
        .code  int      Aster's code, e.g. -1021
        .msg   str      the message sent on the wire
        .http_status    int (400 unless the code says otherwise)
        .details        dict of the numbers that caused it (never sent on the wire)

    aster_error(code, msg=None, **kw) -> AsterError   instance of the class registered for code
"""

from __future__ import annotations

from typing import Any, ClassVar


class AsterError(Exception):
    code: ClassVar[int] = -1000
    name: ClassVar[str] = "UNKNOWN"
    default_msg: ClassVar[str] = "An unknown error occured while processing the request."
    default_status: ClassVar[int] = 400

    def __init__(
        self,
        msg: str | None = None,
        *,
        http_status: int | None = None,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        self.msg = msg if msg is not None else self.default_msg
        self.http_status = http_status if http_status is not None else self.default_status
        self.headers = dict(headers or {})
        self.details = details
        super().__init__(f"{self.code} {self.msg}")

    def to_wire(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


ERRORS: dict[int, type[AsterError]] = {}


def aster_error(code: int, msg: str | None = None, **kw: Any) -> AsterError:
    cls = ERRORS.get(code, AsterError)
    err = cls(msg, **kw)
    if cls is AsterError:
        err.code = code  # type: ignore[misc]
    return err
