"""The API key and secret never appear in a repr, a str, an exception, a traceback or a log."""

from __future__ import annotations

import logging
import pickle
import traceback

import httpx
import pytest
from clientfakes import KEY, SECRET, FakeAster, FakeTime, error, make_async_client, make_client

from aster_account.protocol.errors import AsterError


def assert_clean(text: str) -> None:
    assert KEY not in text
    assert SECRET not in text


def failing_fake() -> FakeAster:
    fake = FakeAster(FakeTime())
    fake.default(
        "/fapi/v2/balance", error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
    )
    fake.default(
        "/fapi/v1/leverage", lambda request: httpx.ReadError(f"reset while reading {request.url}")
    )
    fake.script("/fapi/v4/account", *[httpx.ConnectError("refused")] * 4)
    fake.default("/fapi/v1/income", httpx.Response(502, text="bad gateway"))
    return fake


def test_reprs_and_strs_hold_no_credentials() -> None:
    fake = FakeAster(FakeTime())
    client = make_client(fake)
    for obj in (client, client._core, client.raw, vars(client), vars(client._core)):
        assert_clean(repr(obj))
        assert_clean(str(obj))
    assert "credentials=set" in repr(client)


def test_credentials_cannot_be_pickled() -> None:
    client = make_client(FakeAster(FakeTime()))
    with pytest.raises(TypeError):
        pickle.dumps(client)
    with pytest.raises(TypeError):
        pickle.dumps(client._core)


def test_exceptions_and_tracebacks_hold_no_credentials(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(failing_fake(), max_retries=3)
    calls = [
        client.get_balance,
        lambda: client.set_leverage("BTCUSDT", 5),
        client.get_account,
        lambda: client.get_income(limit=5),
    ]
    for call in calls:
        with pytest.raises(AsterError) as caught:
            call()
        err = caught.value
        assert_clean(str(err))
        assert_clean(repr(err))
        assert_clean(repr(err.details))
        assert_clean("".join(traceback.format_exception(err)))
    assert caplog.records  # retries and the clock were logged...
    assert_clean(caplog.text)  # ...without credentials


async def test_async_exceptions_and_logs_hold_no_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_async_client(failing_fake()) as client:
        assert_clean(repr(client))
        for call in (client.get_balance, client.get_account):
            with pytest.raises(AsterError) as caught:
                await call()
            assert_clean("".join(traceback.format_exception(caught.value)))
    assert_clean(caplog.text)


def test_the_secret_is_never_sent() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v2/balance", httpx.Response(200, json=[]))
    make_client(fake).get_balance()
    for request in fake.requests:
        assert SECRET not in str(request.url)
        assert SECRET not in str(request.headers)
        assert SECRET.encode() not in request.content
