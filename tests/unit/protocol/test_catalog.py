import re
from decimal import Decimal
from pathlib import Path

import pytest

from aster_account.protocol.catalog import (
    BY_NAME,
    BY_ROUTE,
    ENDPOINTS,
    Endpoint,
    Param,
    ParamKind,
    RequiredWhen,
    Weight,
    snake_case,
    validate,
)
from aster_account.protocol.enums import (
    AutoCloseType,
    IncomeType,
    MarginType,
    OrderSide,
    OrderType,
    Permission,
    PositionMarginChange,
    PositionSide,
    Security,
    TransferKind,
)
from aster_account.protocol.errors import AsterError

SKILL = (
    Path(__file__).resolve().parents[3].parent
    / "shared/reference/skills/aster-api-account-v1/SKILL.md"
)
TS = {"timestamp": "1591702613943"}

# name, method, path, weight with every param sent, weight without them, security, required
# params besides timestamp (docs: reference/aster-finance-futures-api-v1.md; FACTS.md weights).
EXPECTED = [
    ("get_balance", "GET", "/fapi/v2/balance", 5, 5, "USER_DATA", set()),
    ("get_account", "GET", "/fapi/v4/account", 5, 5, "USER_DATA", set()),
    ("get_position_risk", "GET", "/fapi/v2/positionRisk", 5, 5, "USER_DATA", set()),
    ("set_leverage", "POST", "/fapi/v1/leverage", 1, 1, "TRADE", {"symbol", "leverage"}),
    ("set_margin_type", "POST", "/fapi/v1/marginType", 1, 1, "TRADE", {"symbol", "marginType"}),
    ("modify_position_margin", "POST", "/fapi/v1/positionMargin", 1, 1, "TRADE",
     {"symbol", "amount", "type"}),
    ("get_position_margin_history", "GET", "/fapi/v1/positionMargin/history", 1, 1, "TRADE",
     {"symbol"}),
    ("transfer", "POST", "/fapi/v1/asset/wallet/transfer", 5, 5, "TRANSFER",
     {"amount", "asset", "clientTranId", "kindType"}),
    ("get_position_mode", "GET", "/fapi/v1/positionSide/dual", 30, 30, "USER_DATA", set()),
    ("set_position_mode", "POST", "/fapi/v1/positionSide/dual", 1, 1, "TRADE",
     {"dualSidePosition"}),
    ("get_multi_assets_mode", "GET", "/fapi/v1/multiAssetsMargin", 30, 30, "USER_DATA", set()),
    ("set_multi_assets_mode", "POST", "/fapi/v1/multiAssetsMargin", 1, 1, "TRADE",
     {"multiAssetsMargin"}),
    ("get_income", "GET", "/fapi/v1/income", 30, 30, "USER_DATA", set()),
    ("get_leverage_brackets", "GET", "/fapi/v1/leverageBracket", 1, 1, "USER_DATA", set()),
    ("get_adl_quantile", "GET", "/fapi/v1/adlQuantile", 5, 5, "USER_DATA", set()),
    ("get_force_orders", "GET", "/fapi/v1/forceOrders", 20, 50, "USER_DATA", set()),
    ("get_commission_rate", "GET", "/fapi/v1/commissionRate", 20, 20, "USER_DATA", {"symbol"}),
    ("get_remaining_openable_notional", "GET", "/fapi/v1/remainingOpenableNotionalValue", 20, 20,
     "USER_DATA", {"symbol", "leverage"}),
    ("new_listen_key", "POST", "/fapi/v1/listenKey", 1, 1, "USER_STREAM", set()),
    ("keepalive_listen_key", "PUT", "/fapi/v1/listenKey", 1, 1, "USER_STREAM", set()),
    ("close_listen_key", "DELETE", "/fapi/v1/listenKey", 1, 1, "USER_STREAM", set()),
    ("ping", "GET", "/fapi/v1/ping", 1, 1, "NONE", set()),
    ("get_server_time", "GET", "/fapi/v1/time", 1, 1, "NONE", set()),
    ("get_exchange_info", "GET", "/fapi/v1/exchangeInfo", 1, 1, "NONE", set()),
    ("get_premium_index", "GET", "/fapi/v1/premiumIndex", 1, 1, "NONE", set()),
    ("new_order", "POST", "/fapi/v1/order", 1, 1, "TRADE", {"symbol", "side", "type"}),
    ("get_order", "GET", "/fapi/v1/order", 1, 1, "USER_DATA", {"symbol"}),
    ("cancel_order", "DELETE", "/fapi/v1/order", 1, 1, "TRADE", {"symbol"}),
    ("cancel_all_open_orders", "DELETE", "/fapi/v1/allOpenOrders", 1, 1, "TRADE", {"symbol"}),
    ("get_open_orders", "GET", "/fapi/v1/openOrders", 1, 40, "USER_DATA", set()),
]  # fmt: skip


def _raises(code: int, msg: str, endpoint: str, **raw: str) -> AsterError:
    with pytest.raises(AsterError) as caught:
        validate(BY_NAME[endpoint], {**TS, **raw})
    assert (caught.value.code, caught.value.msg) == (code, msg)
    return caught.value


def _mandatory(name: str) -> str:
    return f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


def _invalid(name: str) -> str:
    return f"Data sent for parameter '{name}' is not valid."


# --- the seed skill ---------------------------------------------------------------------------

_SEED_LINE = re.compile(
    r"\*\*(?P<method>GET|POST|PUT|DELETE) (?P<path>/\S+)\*\* "
    r"\(Weight: (?P<base>\d+)(?:/(?P<without>\d+))?\)(?P<rest>.*)"
)


def _outside_parens(text: str) -> list[tuple[int, str]]:
    """(index, char) of the characters of text that are not inside parentheses."""
    depth, kept = 0, []
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0 and char != ")":
            kept.append((index, char))
    return kept


def _seed_params(rest: str) -> list[tuple[str, bool]]:
    """Param names (and whether marked optional) from the text after the weight."""
    text = rest.strip()
    if text.startswith("."):
        text = text[1:].strip()
        if not text.startswith("Params:"):
            return []
        text = text[len("Params:") :]
    elif text.startswith(":"):
        text = text[1:]
    else:
        return []
    # The list ends at the first ';' or sentence end outside parentheses.
    for index, char in _outside_parens(text + " "):
        if char == ";" or (char == "." and text[index + 1 : index + 2] in (" ", "")):
            text = text[:index]
            break
    text = text.strip()
    if text.lower().startswith("returns"):
        return []
    commas = [index for index, char in _outside_parens(text) if char == ","]
    bounds = zip([-1, *commas], [*commas, len(text)], strict=True)
    found = []
    for start, stop in bounds:
        token = text[start + 1 : stop]
        name = re.match(r"\s*([A-Za-z]+)", token)
        assert name, f"no param name in {token!r} of {rest!r}"
        found.append((name.group(1), "optional" in token))
    return found


def _seed_entries() -> list[tuple[str, str, int, int | None, list[tuple[str, bool]]]]:
    entries = []
    for line in SKILL.read_text(encoding="utf-8").splitlines():
        if match := _SEED_LINE.search(line):
            without = int(match["without"]) if match["without"] else None
            params = _seed_params(match["rest"])
            entries.append((match["method"], match["path"], int(match["base"]), without, params))
    return entries


@pytest.mark.skipif(not SKILL.exists(), reason=f"seed skill not found at {SKILL}")
def test_every_endpoint_of_the_seed_skill_is_in_the_catalog_as_the_seed_states_it() -> None:
    entries = _seed_entries()
    assert len(entries) == 18  # every **METHOD /path** line of the skill
    assert sum(len(params) for *_, params in entries) == 36  # every param name it lists
    for method, path, base, without, params in entries:
        endpoint = BY_ROUTE[(method, path)]
        assert endpoint.signed, f"{path}: the skill says every endpoint is signed"
        assert endpoint.weight_for({"symbol": "BTCUSDT"}) == base, path
        assert endpoint.weight_for({}) == (without or base), path
        declared = {p.name: p for p in endpoint.params}
        for name, optional in params:
            assert name in declared, f"{method} {path}: seed param {name} missing"
            if optional:
                assert not declared[name].required, f"{method} {path}: {name} is optional"


def test_seed_parser_reads_the_three_line_shapes() -> None:
    assert _seed_params(". No params beyond auth. Returns: see reference.") == []
    assert _seed_params(". Params: symbol (optional). Returns per-symbol") == [("symbol", True)]
    assert _seed_params(": returns dualSidePosition (true = hedge, false = one-way).") == []
    assert _seed_params(": symbol, leverage required; returns x (USDT).") == [
        ("symbol", False),
        ("leverage", False),
    ]
    assert _seed_params(": a, b (default 100, max 1000). Default 7-day window.") == [
        ("a", False),
        ("b", False),
    ]
    position_margin = ": symbol, positionSide (optional; BOTH or LONG/SHORT), amount, type. Only"
    assert [n for n, _ in _seed_params(position_margin)] == [
        "symbol",
        "positionSide",
        "amount",
        "type",
    ]
    assert _seed_params(position_margin)[1] == ("positionSide", True)
    transfer = (
        ": amount, clientTranId (required, e.g. within 7 days), kindType (A | B), timestamp. X"
    )
    assert [n for n, _ in _seed_params(transfer)] == [
        "amount",
        "clientTranId",
        "kindType",
        "timestamp",
    ]


# --- the table ------------------------------------------------------------------------------


def test_catalog_is_exactly_the_expected_table() -> None:
    assert [row[0] for row in EXPECTED] == [e.name for e in ENDPOINTS]
    for name, method, path, with_all, without_any, security, required in EXPECTED:
        endpoint = BY_NAME[name]
        assert (endpoint.method, endpoint.path) == (method, path), name
        assert endpoint.security is Security(security), name
        everything = {p.name: "1" for p in endpoint.params}
        assert endpoint.weight_for(everything) == with_all, name
        assert endpoint.weight_for({}) == without_any, name
        own_required = {p.name for p in endpoint.params if p.required} - {"timestamp"}
        assert own_required == required, name


def test_lookups_cover_every_endpoint_once() -> None:
    assert len(BY_NAME) == len(BY_ROUTE) == len(ENDPOINTS) == 30
    for endpoint in ENDPOINTS:
        assert BY_ROUTE[(endpoint.method, endpoint.path)] is endpoint
        assert endpoint.route == (endpoint.method, endpoint.path)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_signed_endpoints_end_with_recv_window_and_timestamp(endpoint: Endpoint) -> None:
    names = [p.name for p in endpoint.params]
    if endpoint.signed:
        assert names[-2:] == ["recvWindow", "timestamp"]
        assert endpoint.param("timestamp").required
        assert endpoint.param("timestamp").kind is ParamKind.LONG
        assert not endpoint.param("recvWindow").required
        assert endpoint.param("recvWindow").kind is ParamKind.LONG
    else:
        assert "timestamp" not in names
        assert "recvWindow" not in names


def test_permission_follows_security() -> None:
    assert BY_NAME["get_balance"].permission is Permission.USER_DATA
    assert BY_NAME["set_leverage"].permission is Permission.TRADE
    assert BY_NAME["transfer"].permission is Permission.TRANSFER
    assert BY_NAME["new_listen_key"].permission is None
    assert BY_NAME["ping"].permission is None
    assert not BY_NAME["new_listen_key"].signed
    assert BY_NAME["transfer"].signed


def test_params_match_the_docs_tables() -> None:
    leverage = BY_NAME["set_leverage"].param("leverage")
    assert (leverage.kind, leverage.minimum, leverage.maximum) == (ParamKind.INT, None, None)
    assert BY_NAME["set_margin_type"].param("marginType").enum == ("ISOLATED", "CROSSED")
    margin_type = BY_NAME["modify_position_margin"].param("type")
    assert (margin_type.kind, margin_type.enum) == (ParamKind.INT, ("1", "2"))
    assert BY_NAME["modify_position_margin"].param("positionSide").enum == ("BOTH", "LONG", "SHORT")
    assert BY_NAME["modify_position_margin"].param("amount").kind is ParamKind.DECIMAL
    assert BY_NAME["transfer"].param("kindType").enum == ("FUTURE_SPOT", "SPOT_FUTURE")
    assert BY_NAME["set_position_mode"].param("dualSidePosition").kind is ParamKind.BOOL
    assert BY_NAME["set_multi_assets_mode"].param("multiAssetsMargin").kind is ParamKind.BOOL
    assert BY_NAME["get_income"].param("incomeType").enum == tuple(IncomeType)
    assert len(tuple(IncomeType)) == 7
    income_limit = BY_NAME["get_income"].param("limit")
    assert (income_limit.default, income_limit.maximum) == ("100", 1000)
    assert BY_NAME["get_force_orders"].param("autoCloseType").enum == ("LIQUIDATION", "ADL")
    force_limit = BY_NAME["get_force_orders"].param("limit")
    assert (force_limit.default, force_limit.maximum) == ("50", 100)
    assert BY_NAME["get_position_margin_history"].param("limit").default == "500"
    client_id = BY_NAME["new_order"].param("newClientOrderId")
    assert client_id.max_length == 36
    assert client_id.pattern == r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
    assert BY_NAME["new_order"].param("newOrderRespType").enum == ("ACK", "RESULT")
    assert "LIQUIDATION" not in (BY_NAME["new_order"].param("type").enum or ())
    for name in ("new_listen_key", "keepalive_listen_key", "close_listen_key", "ping"):
        assert BY_NAME[name].params == ()


# --- weights --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "params", "weight"),
    [
        ("get_force_orders", {"symbol": "BTCUSDT"}, 20),
        ("get_force_orders", {}, 50),
        ("get_force_orders", {"symbol": ""}, 50),  # empty counts as not sent
        ("get_force_orders", {"limit": "10"}, 50),
        ("get_open_orders", {"symbol": "BTCUSDT"}, 1),
        ("get_open_orders", {}, 40),
        ("get_income", {}, 30),
        ("get_balance", {"symbol": "BTCUSDT"}, 5),
    ],
)
def test_weight_for(endpoint: str, params: dict[str, str], weight: int) -> None:
    assert BY_NAME[endpoint].weight_for(params) == weight


def test_weight_rule_in_words() -> None:
    assert BY_NAME["get_force_orders"].weight.describe() == "20 with symbol, 50 without"
    assert BY_NAME["get_open_orders"].weight.describe() == "1 with symbol, 40 without"
    assert BY_NAME["get_income"].weight.describe() == "30"
    two = Weight(1, (("a", 5), ("b", 7)))
    assert two.describe() == "1; 5 without a; 7 without b"
    assert two.for_params({"a": "x"}) == 7
    assert two.for_params({}) == 7  # the heaviest rule that applies
    assert two.for_params({"a": "x", "b": "y"}) == 1


# --- py_name --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "python"),
    [
        ("kindType", "kind_type"),
        ("clientTranId", "client_tran_id"),
        ("dualSidePosition", "dual_side_position"),
        ("origClientOrderId", "orig_client_order_id"),
        ("recvWindow", "recv_window"),
        ("symbol", "symbol"),
    ],
)
def test_py_name(wire: str, python: str) -> None:
    assert snake_case(wire) == python
    assert Param(wire, ParamKind.STRING).py_name == python


def test_py_names_are_unique_per_endpoint() -> None:
    for endpoint in ENDPOINTS:
        names = [p.py_name for p in endpoint.params]
        assert len(set(names)) == len(names), endpoint.name


# --- validate: results ----------------------------------------------------------------------


def test_validate_types_values_and_fills_every_key() -> None:
    values = validate(
        BY_NAME["modify_position_margin"],
        {"symbol": "BTCUSDT", "amount": "100.50", "type": "1", "timestamp": "1", "junk": "x"},
    )
    assert values == {
        "symbol": "BTCUSDT",
        "position_side": None,
        "amount": Decimal("100.50"),
        "type": PositionMarginChange.ADD,
        "recv_window": 5000,  # docs: recvWindow defaults to 5000
        "timestamp": 1,
    }
    assert type(values["timestamp"]) is int


def test_validate_returns_enum_members() -> None:
    assert (
        validate(BY_NAME["set_margin_type"], {**TS, "symbol": "X", "marginType": "CROSSED"})[
            "margin_type"
        ]
        is MarginType.CROSSED
    )
    assert (
        validate(
            BY_NAME["transfer"],
            {**TS, "amount": "1", "asset": "USDT", "clientTranId": "a", "kindType": "SPOT_FUTURE"},
        )["kind_type"]
        is TransferKind.SPOT_FUTURE
    )
    assert (
        validate(BY_NAME["get_income"], {**TS, "incomeType": "FUNDING_FEE"})["income_type"]
        is IncomeType.FUNDING_FEE
    )
    assert (
        validate(BY_NAME["get_force_orders"], {**TS, "autoCloseType": "ADL"})["auto_close_type"]
        is AutoCloseType.ADL
    )
    order = validate(
        BY_NAME["new_order"],
        {
            **TS,
            "symbol": "X",
            "side": "SELL",
            "type": "MARKET",
            "quantity": "1",
            "positionSide": "SHORT",
            "newOrderRespType": "RESULT",
        },
    )
    assert order["side"] is OrderSide.SELL
    assert order["type"] is OrderType.MARKET
    assert order["position_side"] is PositionSide.SHORT
    assert order["new_order_resp_type"] == "RESULT"  # no enums class: the wire text


@pytest.mark.parametrize(
    ("endpoint", "key", "default"),
    [
        ("get_income", "limit", 100),
        ("get_position_margin_history", "limit", 500),
        ("get_force_orders", "limit", 50),
    ],
)
def test_validate_fills_documented_defaults(endpoint: str, key: str, default: int) -> None:
    values = validate(BY_NAME[endpoint], {**TS, "symbol": "BTCUSDT"})
    assert values[key] == default
    assert values["start_time"] is None
    assert values["end_time"] is None


def test_new_order_defaults() -> None:
    values = validate(
        BY_NAME["new_order"],
        {**TS, "symbol": "X", "side": "BUY", "type": "MARKET", "quantity": "1"},
    )
    assert values["reduce_only"] is False
    assert values["price_protect"] is False
    assert values["close_position"] is None
    assert values["new_order_resp_type"] == "ACK"
    assert values["working_type"] == "CONTRACT_PRICE"
    assert values["position_side"] is None  # BOTH or LONG/SHORT depends on the account's mode


@pytest.mark.parametrize("text", ["true", "TRUE", "True", "tRuE"])
def test_bool_is_case_insensitive_true(text: str) -> None:
    values = validate(BY_NAME["set_position_mode"], {**TS, "dualSidePosition": text})
    assert values["dual_side_position"] is True


@pytest.mark.parametrize("text", ["false", "FALSE", "False"])
def test_bool_is_case_insensitive_false(text: str) -> None:
    values = validate(BY_NAME["set_multi_assets_mode"], {**TS, "multiAssetsMargin": text})
    assert values["multi_assets_margin"] is False


@pytest.mark.parametrize("text", ["1", "0", "yes", "t", " true", "true "])
def test_bool_rejects_anything_else(text: str) -> None:
    _raises(-1130, _invalid("dualSidePosition"), "set_position_mode", dualSidePosition=text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.001", Decimal("0.001")),
        ("-5", Decimal("-5")),
        ("100.50", Decimal("100.50")),
        ("+5", Decimal("5")),
        (".5", Decimal("0.5")),
        ("5.", Decimal("5")),
        ("0", Decimal("0")),
        ("1" * 40, Decimal("1" * 40)),
        ("0.00000001", Decimal("0.00000001")),
    ],
)
def test_decimal_accepts_plain_fixed_point(text: str, value: Decimal) -> None:
    values = validate(
        BY_NAME["modify_position_margin"], {**TS, "symbol": "X", "type": "2", "amount": text}
    )
    assert values["amount"] == value
    assert isinstance(values["amount"], Decimal)


@pytest.mark.parametrize(
    "text",
    [
        "1e3",
        "1E-2",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "1,5",
        " 1",
        "1 ",
        "0x10",
        ".",
        "-",
        "1.2.3",
        "--1",
        "1" * 41,
        "١٢",
        "1_000",
    ],
)
def test_decimal_rejects_the_rest(text: str) -> None:
    _raises(-1130, _invalid("amount"), "modify_position_margin", symbol="X", type="1", amount=text)


# --- validate: errors -----------------------------------------------------------------------


def test_required_param_missing() -> None:
    _raises(-1102, _mandatory("leverage"), "set_leverage", symbol="BTCUSDT")
    _raises(-1102, _mandatory("symbol"), "get_commission_rate")
    with pytest.raises(AsterError) as caught:
        validate(BY_NAME["get_balance"], {})
    assert (caught.value.code, caught.value.msg) == (-1102, _mandatory("timestamp"))


def test_required_param_empty() -> None:
    _raises(-1102, _mandatory("symbol"), "set_leverage", symbol="", leverage="5")


def test_optional_param_empty_is_mandatory_error_too() -> None:
    _raises(-1102, _mandatory("symbol"), "get_position_risk", symbol="")
    _raises(-1102, _mandatory("recvWindow"), "get_balance", recvWindow="")


def test_leverage_beyond_int32_is_invalid() -> None:
    _raises(-1130, _invalid("leverage"), "set_leverage", symbol="BTCUSDT", leverage="99999999999")


# The range is the engine's rule (-4028 "Leverage N is not valid", FACTS.md), not the catalog's.
@pytest.mark.parametrize("leverage", ["1", "125", "20", "007", "0", "126", "-1"])
def test_leverage_in_range(leverage: str) -> None:
    values = validate(BY_NAME["set_leverage"], {**TS, "symbol": "BTCUSDT", "leverage": leverage})
    assert values["leverage"] == int(leverage)


@pytest.mark.parametrize("text", ["1.5", "abc", "1e2", " 5", "+5", "0x1", "1" * 19, "٣"])
def test_int_that_does_not_parse(text: str) -> None:
    _raises(-1130, _invalid("leverage"), "set_leverage", symbol="BTCUSDT", leverage=text)


def test_income_limit_bounds() -> None:
    _raises(-1130, _invalid("limit"), "get_income", limit="1001")
    _raises(-1130, _invalid("limit"), "get_income", limit="0")
    assert validate(BY_NAME["get_income"], {**TS, "limit": "1000"})["limit"] == 1000
    _raises(-1130, _invalid("limit"), "get_force_orders", limit="101")


def test_long_bounds() -> None:
    big = "9" * 18
    assert validate(BY_NAME["get_balance"], {"timestamp": big})["timestamp"] == int(big)
    _raises(-1130, _invalid("timestamp"), "get_balance", timestamp="9" * 19)
    _raises(-1130, _invalid("timestamp"), "get_balance", timestamp="1.0")
    _raises(-1130, _invalid("recvWindow"), "get_balance", recvWindow="soon")


def test_int_fits_32_bits() -> None:
    # INT is Java's int: 2^31 - 1 is the largest; limit has no other upper bound on history.
    history = BY_NAME["get_position_margin_history"]
    assert validate(history, {**TS, "symbol": "X", "limit": "2147483647"})["limit"] == 2**31 - 1
    _raises(-1130, _invalid("limit"), "get_position_margin_history", symbol="X", limit="2147483648")


def test_enum_value_not_in_list() -> None:
    _raises(-1130, _invalid("marginType"), "set_margin_type", symbol="X", marginType="isolated")
    _raises(-1130, _invalid("marginType"), "set_margin_type", symbol="X", marginType="CROSS")
    _raises(-1130, _invalid("incomeType"), "get_income", incomeType="FUNDING")
    _raises(-1130, _invalid("type"), "modify_position_margin", symbol="X", amount="1", type="3")
    _raises(-1130, _invalid("type"), "modify_position_margin", symbol="X", amount="1", type="x")
    _raises(
        -1130,
        _invalid("kindType"),
        "transfer",
        amount="1",
        asset="USDT",
        clientTranId="a",
        kindType="FUTURE_FUTURE",
    )
    _raises(-1130, _invalid("type"), "new_order", symbol="X", side="BUY", type="LIQUIDATION")


def test_max_length_and_pattern() -> None:
    base = {"symbol": "X", "side": "BUY", "type": "MARKET", "quantity": "1"}
    _raises(-1130, _invalid("newClientOrderId"), "new_order", **base, newClientOrderId="a" * 37)
    _raises(
        -1100,
        "Illegal characters found in parameter 'newClientOrderId'; "
        r"legal range is '^[\.A-Z\:/a-z0-9_-]{1,36}$'.",
        "new_order",
        **base,
        newClientOrderId="my id",
    )
    ok = validate(BY_NAME["new_order"], {**TS, **base, "newClientOrderId": "a.B:c/9_-" + "x" * 27})
    assert ok["new_client_order_id"] == "a.B:c/9_-" + "x" * 27


def test_decimal_range() -> None:
    base = {"symbol": "X", "side": "BUY", "type": "TRAILING_STOP_MARKET"}
    _raises(-1130, _invalid("callbackRate"), "new_order", **base, callbackRate="0.09")
    _raises(-1130, _invalid("callbackRate"), "new_order", **base, callbackRate="5.01")
    values = validate(BY_NAME["new_order"], {**TS, **base, "callbackRate": "5.0"})
    assert values["callback_rate"] == Decimal("5")


def test_one_of() -> None:
    message = "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"
    _raises(-1102, message, "get_order", symbol="X")
    _raises(-1102, message, "cancel_order", symbol="X")
    assert validate(BY_NAME["get_order"], {**TS, "symbol": "X", "orderId": "7"})["order_id"] == 7
    values = validate(BY_NAME["cancel_order"], {**TS, "symbol": "X", "origClientOrderId": "c"})
    assert values["orig_client_order_id"] == "c"


def test_required_when() -> None:
    _raises(-1102, _mandatory("timeInForce"), "new_order", symbol="X", side="BUY", type="LIMIT")
    _raises(
        -1102,
        _mandatory("price"),
        "new_order",
        symbol="X",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="1",
    )
    _raises(-1102, _mandatory("quantity"), "new_order", symbol="X", side="BUY", type="MARKET")
    _raises(-1102, _mandatory("stopPrice"), "new_order", symbol="X", side="BUY", type="STOP_MARKET")
    _raises(
        -1102,
        _mandatory("callbackRate"),
        "new_order",
        symbol="X",
        side="BUY",
        type="TRAILING_STOP_MARKET",
    )
    close_all = validate(
        BY_NAME["new_order"],
        {
            **TS,
            "symbol": "X",
            "side": "SELL",
            "type": "STOP_MARKET",
            "stopPrice": "9300",
            "closePosition": "true",
        },
    )
    assert close_all["close_position"] is True
    assert close_all["quantity"] is None


def test_checks_run_in_declared_order() -> None:
    # symbol comes before leverage in the docs' table, so it is the one reported.
    _raises(-1102, _mandatory("symbol"), "set_leverage", leverage="0")


def test_signature_and_unknown_params_are_ignored() -> None:
    values = validate(BY_NAME["get_balance"], {**TS, "signature": "zz", "foo": ""})
    assert set(values) == {"recv_window", "timestamp"}


def test_public_endpoint_ignores_timestamp() -> None:
    assert validate(BY_NAME["get_premium_index"], {"timestamp": "x"}) == {"symbol": None}
    assert validate(BY_NAME["ping"], {}) == {}


# --- the catalog refuses inconsistent entries ----------------------------------------------


def test_catalog_entries_are_checked_when_built() -> None:
    symbol = Param("symbol", ParamKind.STRING)
    with pytest.raises(ValueError, match="duplicate"):
        Endpoint("x", "GET", "/x", Weight(1), Security.NONE, (symbol, symbol), "Empty", "")
    with pytest.raises(ValueError, match="unknown parameters"):
        Endpoint("x", "GET", "/x", Weight(1, (("symbol", 2),)), Security.NONE, (), "Empty", "")
    with pytest.raises(ValueError, match="unknown parameters"):
        Endpoint(
            "x",
            "GET",
            "/x",
            Weight(1),
            Security.NONE,
            (symbol,),
            "Empty",
            "",
            required_when=(RequiredWhen("symbol", ("A",), ("price",)),),
        )
    with pytest.raises(ValueError, match="method"):
        Endpoint("x", "PATCH", "/x", Weight(1), Security.NONE, (), "Empty", "")
    with pytest.raises(ValueError, match="no default"):
        Param("limit", ParamKind.INT, required=True, default="5")
    with pytest.raises(ValueError, match="lists its values"):
        Param("side", ParamKind.ENUM)
    with pytest.raises(AsterError):
        Param("limit", ParamKind.INT, maximum=10, default="50")


def test_signed_endpoint_built_by_hand_gets_auth_params() -> None:
    endpoint = Endpoint("x", "GET", "/x", Weight(1), Security.USER_DATA, (), "Empty", "")
    assert [p.name for p in endpoint.params] == ["recvWindow", "timestamp"]
    stream = Endpoint("y", "POST", "/y", Weight(1), Security.USER_STREAM, (), "Empty", "")
    assert stream.params == ()


def test_result_names_are_response_models() -> None:
    models = pytest.importorskip("aster_account.protocol.models")
    for endpoint in ENDPOINTS:
        for name in re.findall(r"[A-Z]\w*", endpoint.result):
            assert hasattr(models, name), f"{endpoint.name}: no model {name}"


def test_unknown_position_side_is_4060_not_1130() -> None:
    # FACTS.md: a bad positionSide answers -4060 "Invalid position side."
    _raises(
        -4060,
        "Invalid position side.",
        "modify_position_margin",
        symbol="BTCUSDT",
        positionSide="MIDDLE",
        amount="1",
        type="1",
    )
