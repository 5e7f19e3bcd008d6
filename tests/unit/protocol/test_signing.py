"""protocol.signing against the docs' worked examples ("SIGNED Endpoint Examples")."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest

from aster_account.protocol.errors import BadRecvWindow, InvalidParameter, InvalidTimestamp
from aster_account.protocol.signing import (
    DEFAULT_RECV_WINDOW,
    MAX_RECV_WINDOW,
    check_timestamp,
    encode_params,
    sign,
    signed_query,
    split_signature,
    total_params,
    verify,
)

# The docs' example key pair and order (POST /fapi/v1/order).
SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
EXAMPLE_PARAMS = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000"
    "&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
)
EXAMPLE_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
EXAMPLE_3_QUERY = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
EXAMPLE_3_BODY = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
# The docs print example 1's signature under example 3 as well, yet say "the signature is
# different in example 3": a copy slip. Computed independently with openssl (bash):
#   K=2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9
#   P="symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
#   P+="quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
#   echo -n "$P" | openssl dgst -sha256 -hmac "$K"
#   SHA2-256(stdin)= 30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4
EXAMPLE_3_SIGNATURE = "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"


def test_recv_window_bounds_are_the_docs_numbers() -> None:
    assert DEFAULT_RECV_WINDOW == 5000
    assert MAX_RECV_WINDOW == 60000


# -- The docs' three examples ---------------------------------------------------------------


def test_example_1_query_string_signs_to_the_docs_signature() -> None:
    payload = total_params(EXAMPLE_PARAMS, "")

    assert sign(SECRET, payload) == EXAMPLE_SIGNATURE


def test_example_2_request_body_signs_to_the_same_signature() -> None:
    payload = total_params("", EXAMPLE_PARAMS)

    assert sign(SECRET, payload) == EXAMPLE_SIGNATURE


def test_example_3_mixed_joins_query_and_body_without_an_ampersand() -> None:
    payload = total_params(EXAMPLE_3_QUERY, EXAMPLE_3_BODY)

    assert payload == (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=9000"
        "&recvWindow=5000&timestamp=1591702613943"
    )
    assert sign(SECRET, payload) == EXAMPLE_3_SIGNATURE
    assert EXAMPLE_3_SIGNATURE != EXAMPLE_SIGNATURE


def test_example_3_as_the_server_receives_it_verifies() -> None:
    # The curl line of example 3: signature last in the body.
    body = f"{EXAMPLE_3_BODY}&signature={EXAMPLE_3_SIGNATURE}"

    query, in_query = split_signature(EXAMPLE_3_QUERY)
    rest, in_body = split_signature(body)

    assert in_query is None
    assert in_body == EXAMPLE_3_SIGNATURE
    assert verify(SECRET, total_params(query, rest), in_body)
    # Signed as if the ampersand were there, it does not verify.
    assert not verify(SECRET, f"{query}&{rest}", in_body)


def test_the_signature_covers_the_string_as_sent_so_order_matters() -> None:
    # The docs' bullet list shows timeInForce before quantity; the signed string has it after.
    reordered = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=9000"
        "&recvWindow=5000&timestamp=1591702613943"
    )

    assert not verify(SECRET, reordered, EXAMPLE_SIGNATURE)


# -- split_signature ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "rest", "signature"),
    [
        ("a=1&b=2&signature=abc", "a=1&b=2", "abc"),  # last, as the docs ask
        ("signature=abc&a=1&b=2", "a=1&b=2", "abc"),  # first
        ("a=1&signature=abc&b=2", "a=1&b=2", "abc"),  # in the middle
        ("signature=abc", "", "abc"),  # alone
        ("a=1&signature=", "a=1", ""),  # empty value
        ("a=1&b=2", "a=1&b=2", None),  # none
        ("", "", None),
        # Everything else stays byte for byte: encoding, empty pairs, look-alike keys.
        ("a=x%20y&&signature=abc&b=+", "a=x%20y&&b=+", "abc"),
        ("signatures=1&xsignature=2", "signatures=1&xsignature=2", None),
        # Only the first is taken; a second stays in the payload and cannot verify.
        ("signature=abc&a=1&signature=def", "a=1&signature=def", "abc"),
    ],
)
def test_split_signature_removes_the_pair_wherever_it_stands(
    raw: str, rest: str, signature: str | None
) -> None:
    assert split_signature(raw) == (rest, signature)


def test_signature_in_the_query_with_params_in_the_body() -> None:
    # Signature in the query, parameters split between query and body (docs: "query string or
    # request body"): totalParams is the query without the signature, then the body.
    query = "symbol=BTCUSDT&side=BUY"
    body = "type=LIMIT&timestamp=1591702613943"
    signature = sign(SECRET, total_params(query, body))

    rest, found = split_signature(f"{query}&signature={signature}")

    assert found == signature
    assert verify(SECRET, total_params(rest, body), found)


# -- sign / verify -------------------------------------------------------------------------


def test_sign_is_lowercase_hex_of_64_digits() -> None:
    signature = sign(SECRET, "timestamp=1")

    assert len(signature) == 64
    assert signature == signature.lower()
    int(signature, 16)


def test_verify_is_case_insensitive() -> None:
    assert verify(SECRET, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE.upper())
    assert verify(SECRET, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE[:32] + EXAMPLE_SIGNATURE[32:].upper())


@pytest.mark.parametrize(
    "signature",
    [
        "",
        EXAMPLE_SIGNATURE[:-1],  # too short
        EXAMPLE_SIGNATURE + "0",  # too long
        "g" * 64,  # not hex
        " " + EXAMPLE_SIGNATURE[1:],  # the docs' curl lines carry a stray space
        "é" * 64,  # not ASCII
        "0" * 64,  # well formed, wrong
    ],
)
def test_verify_is_false_for_anything_but_the_right_signature(signature: str) -> None:
    assert verify(SECRET, EXAMPLE_PARAMS, signature) is False


def test_verify_is_false_for_another_payload_or_secret() -> None:
    assert not verify(SECRET, EXAMPLE_PARAMS + "&x=1", EXAMPLE_SIGNATURE)
    assert not verify(SECRET[::-1], EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)


# -- check_timestamp -----------------------------------------------------------------------

SERVER = 1_591_702_613_943


@pytest.mark.parametrize(
    "timestamp",
    [
        SERVER + 999,  # ahead by less than 1000 ms
        SERVER,
        SERVER - DEFAULT_RECV_WINDOW,  # exactly recvWindow old
    ],
)
def test_a_timestamp_inside_the_window_passes(timestamp: int) -> None:
    assert check_timestamp(timestamp, DEFAULT_RECV_WINDOW, SERVER) is None


def test_a_timestamp_1000_ms_ahead_is_rejected_as_ahead() -> None:
    with pytest.raises(InvalidTimestamp) as caught:
        check_timestamp(SERVER + 1000, DEFAULT_RECV_WINDOW, SERVER)

    assert caught.value.code == -1021
    assert caught.value.msg == "Timestamp for this request was 1000ms ahead of the server's time."
    assert caught.value.details == {
        "timestamp": SERVER + 1000,
        "recv_window": 5000,
        "server_time": SERVER,
    }


def test_a_timestamp_one_ms_older_than_recv_window_is_rejected_as_outside() -> None:
    with pytest.raises(InvalidTimestamp) as caught:
        check_timestamp(SERVER - DEFAULT_RECV_WINDOW - 1, DEFAULT_RECV_WINDOW, SERVER)

    assert caught.value.msg == "Timestamp for this request is outside of the recvWindow."


def test_the_largest_recv_window_is_allowed_to_its_edge() -> None:
    check_timestamp(SERVER - MAX_RECV_WINDOW, MAX_RECV_WINDOW, SERVER)

    with pytest.raises(InvalidTimestamp):
        check_timestamp(SERVER - MAX_RECV_WINDOW - 1, MAX_RECV_WINDOW, SERVER)


def test_a_recv_window_above_60000_is_1131_before_the_timestamp_is_looked_at() -> None:
    with pytest.raises(BadRecvWindow) as caught:
        check_timestamp(SERVER + 10_000, MAX_RECV_WINDOW + 1, SERVER)

    assert caught.value.to_wire() == {
        "code": -1131,
        "msg": "'recvWindow' must be less than 60000.",
    }


@pytest.mark.parametrize("recv_window", [0, -1])
def test_a_recv_window_not_above_zero_is_1130(recv_window: int) -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_timestamp(SERVER, recv_window, SERVER)

    assert caught.value.to_wire() == {
        "code": -1130,
        "msg": "Data sent for parameter 'recvWindow' is not valid.",
    }


# -- encode_params / signed_query ----------------------------------------------------------


class Side(StrEnum):
    BUY = "BUY"


class Kind(IntEnum):
    ONE = 1


def test_encode_params_keeps_the_order_and_writes_values_as_the_engine_reads_them() -> None:
    encoded = encode_params(
        [
            ("symbol", "BTCUSDT"),
            ("side", Side.BUY),
            ("type", Kind.ONE),
            ("reduceOnly", False),
            ("closePosition", True),
            ("quantity", Decimal("1E+2")),
            ("price", Decimal("0.00000100")),
            ("stopPrice", 1e-05),
            ("leverage", 20),
            ("newClientOrderId", None),  # not sent
            ("note", "a b&c=d"),
        ]
    )

    assert encoded == (
        "symbol=BTCUSDT&side=BUY&type=1&reduceOnly=false&closePosition=true&quantity=100"
        "&price=0.00000100&stopPrice=0.00001&leverage=20&note=a+b%26c%3Dd"
    )


@pytest.mark.parametrize("value", [[1, 2], object(), b"raw"])
def test_encode_params_refuses_values_it_cannot_write(value: object) -> None:
    with pytest.raises(TypeError, match="cannot send"):
        encode_params([("x", value)])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Inf")])
def test_encode_params_refuses_numbers_that_are_not_finite(value: object) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        encode_params([("x", value)])


def test_signed_query_reproduces_the_docs_example_1() -> None:
    params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("quantity", 1),
        ("price", Decimal("9000")),
        ("timeInForce", "GTC"),
        ("recvWindow", 5000),
        ("timestamp", 1591702613943),
    ]

    assert signed_query(params, SECRET) == f"{EXAMPLE_PARAMS}&signature={EXAMPLE_SIGNATURE}"


def test_signed_query_round_trips_through_split_signature_and_verify() -> None:
    query = signed_query([("asset", "USDT"), ("amount", Decimal("12.5")), ("type", 1)], SECRET)

    rest, signature = split_signature(query)

    assert query.endswith(f"&signature={signature}")
    assert rest == "asset=USDT&amount=12.5&type=1"
    assert signature is not None
    assert verify(SECRET, total_params(rest, ""), signature)
    assert verify(SECRET, rest, signature.upper())
    assert not verify("another-secret", rest, signature)


def test_signed_query_without_params_is_the_signature_alone() -> None:
    assert signed_query([], SECRET) == f"signature={sign(SECRET, '')}"
