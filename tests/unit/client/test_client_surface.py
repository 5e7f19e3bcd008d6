"""The public face: one method per catalog endpoint on both clients, same names, same parameters;
the exports; typed results and the raw view."""

from __future__ import annotations

import inspect
from decimal import Decimal

import httpx
import pytest
from clientfakes import BALANCE_ROW, FakeAster, FakeTime, make_async_client, make_client, ok

import aster_account
import aster_account.client
from aster_account import AsyncClient, Client
from aster_account.client import _endpoints
from aster_account.protocol import errors
from aster_account.protocol.catalog import AUTH_PARAMS, ENDPOINTS, Endpoint
from aster_account.protocol.models import BalanceRow, CodeMsg

AUTH = {p.py_name for p in AUTH_PARAMS}
OPTIONS = {"ok_if_unchanged"}  # client-side options, not wire parameters


def _params(fn: object) -> list[inspect.Parameter]:
    return list(inspect.signature(fn).parameters.values())  # type: ignore[arg-type]


@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.name)
def test_every_endpoint_is_a_method_of_both_clients_with_the_catalog_parameters(
    ep: Endpoint,
) -> None:
    unused = httpx.MockTransport(lambda request: httpx.Response(500))
    sync_client = Client("k", "s", "http://x", transport=unused)
    async_client = AsyncClient("k", "s", "http://x", transport=unused)
    sync_method = getattr(sync_client, ep.name)
    async_method = getattr(async_client, ep.name)
    assert inspect.iscoroutinefunction(async_method)
    assert not inspect.iscoroutinefunction(sync_method)
    sync_params = _params(sync_method)
    assert sync_params == _params(async_method)
    assert inspect.signature(sync_method).return_annotation == (
        inspect.signature(async_method).return_annotation
    )
    # the wire parameters, by their snake_case names, required exactly when the catalog says
    wire = {p.py_name: p for p in ep.params if p.py_name not in AUTH}
    named = {p.name: p for p in sync_params if p.name not in OPTIONS}
    assert set(named) == set(wire)
    for name, param in named.items():
        required = param.default is inspect.Parameter.empty
        assert required == wire[name].required or (
            ep.name == "transfer" and name == "client_tran_id"  # generated when not given
        ), name
    # the result type is the catalog's
    assert inspect.signature(sync_method).return_annotation == ep.result
    assert (sync_method.__doc__ or "").startswith(ep.summary)
    sync_client.close()


def test_builders_cover_exactly_the_catalog() -> None:
    assert set(_endpoints.BUILDERS) == {e.name for e in ENDPOINTS}


def test_setters_take_ok_if_unchanged() -> None:
    for name in ("set_leverage", "set_margin_type", "set_position_mode", "set_multi_assets_mode"):
        param = inspect.signature(getattr(Client, name).build).parameters["ok_if_unchanged"]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY and param.default is False


@pytest.mark.parametrize("module", [aster_account, aster_account.client])
def test_all_is_complete_and_resolves(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(module, name) is not None
    public = {n for n in dir(module) if not n.startswith("_")}
    public -= {"annotations", "importlib", "TYPE_CHECKING", "Any"}
    # every public name of the package is exported (submodules excepted)
    submodules = {"client", "protocol", "server", "engine", "store", "cli", "data", "testing"}
    assert public - submodules <= set(names)


def test_top_level_exports_the_clients_and_the_errors_users_catch() -> None:
    assert aster_account.Client is Client
    assert aster_account.AsyncClient is AsyncClient
    for name in (
        "AsterError",
        "RateLimitError",
        "IPBannedError",
        "UnknownOutcome",
        "TransportError",
        "InvalidTimestamp",
        "DuplicatedClientTranId",
    ):
        assert getattr(aster_account, name) is getattr(errors, name)
    assert issubclass(aster_account.AlreadyApplied, errors.DuplicatedClientTranId)
    assert aster_account.__version__ == "0.1.0"


def test_typed_result_and_raw_view() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v2/balance", ok([BALANCE_ROW], used=5))
    client = make_client(fake)
    rows = client.get_balance()
    assert rows == [
        BalanceRow(
            account_alias="SgsR",
            asset="USDT",
            wallet_balance=Decimal("122607.35137903"),
            cross_wallet_balance=Decimal("23.72469206"),
            cross_unrealized_profit=Decimal("0.00000000"),
            available_balance=Decimal("23.72469206"),
            max_withdraw_amount=Decimal("23.72469206"),
            margin_available=True,
            update_time=1617939110373,
        )
    ]
    raw = client.raw.get_balance()
    assert raw.status_code == 200
    assert raw.json() == [BALANCE_ROW]
    assert raw.used_weight == 5
    assert raw.parse() == rows
    assert raw.content.startswith(b"[{")
    with pytest.raises(AttributeError):
        client.raw.no_such_endpoint  # noqa: B018


async def test_async_typed_result_and_raw_view() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v2/balance", ok([BALANCE_ROW], used=5))
    fake.default("/fapi/v1/marginType", ok({"code": 200, "msg": "success"}))
    async with make_async_client(fake) as client:
        rows = await client.get_balance()
        assert rows[0].available_balance == Decimal("23.72469206")
        raw = await client.raw.get_balance()
        assert raw.json() == [BALANCE_ROW] and raw.parse() == rows
        assert await client.set_margin_type("BTCUSDT", "ISOLATED") == CodeMsg()


def test_results_with_two_shapes_follow_the_reply() -> None:
    fake = FakeAster(FakeTime())
    one = {"symbol": "BTCUSDT", "brackets": []}
    fake.script("/fapi/v1/leverageBracket", ok(one), ok([one, {**one, "symbol": "ETHUSDT"}]))
    client = make_client(fake)
    single = client.get_leverage_brackets("BTCUSDT")
    assert not isinstance(single, list) and single.symbol == "BTCUSDT"
    both = client.get_leverage_brackets()
    assert isinstance(both, list) and [b.symbol for b in both] == ["BTCUSDT", "ETHUSDT"]


def test_a_reply_of_the_wrong_shape_is_an_error_not_a_crash() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v2/balance", ok({"unexpected": True}))
    with pytest.raises(errors.AsterError, match="Unexpected reply shape"):
        make_client(fake).get_balance()


class ClosingTransport(httpx.MockTransport):
    closed = 0

    def close(self) -> None:
        self.closed += 1

    async def aclose(self) -> None:
        self.closed += 1


async def test_context_managers_close_the_transport() -> None:
    transport = ClosingTransport(FakeAster(FakeTime()))
    with Client(transport=transport):
        pass
    async with AsyncClient(transport=transport):
        pass
    assert transport.closed == 2


def test_default_base_url_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    unused = httpx.MockTransport(lambda request: httpx.Response(500))
    monkeypatch.delenv("ASTER_BASE_URL", raising=False)
    assert Client(transport=unused).base_url == "https://fapi.asterdex.com"
    monkeypatch.setenv("ASTER_BASE_URL", "http://127.0.0.1:9/")
    assert Client(transport=unused).base_url == "http://127.0.0.1:9"
    assert Client(base_url="http://other", transport=unused).base_url == "http://other"


def test_transport_is_injectable_for_both_faces() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={})

    Client(base_url="http://x", transport=httpx.MockTransport(handler)).ping()
    assert seen == ["/fapi/v1/ping"]
