"""protocol.errors against the docs' Error Codes section and FACTS.md."""

from __future__ import annotations

import json
import pickle
import re
from decimal import Decimal
from pathlib import Path

import pytest

from aster_account.protocol import errors
from aster_account.protocol.errors import (
    ERRORS,
    AsterError,
    BadRecvWindow,
    FilterError,
    InvalidLeverage,
    InvalidParameter,
    InvalidTimestamp,
    IPBannedError,
    MandatoryParamEmptyOrMalformed,
    ProcessingError,
    RateLimitError,
    RejectedMbxKey,
    RequestError,
    ServerError,
    Timeout,
    TooManyRequests,
    TransportError,
    Unknown,
    UnknownOutcome,
    aster_error,
    from_response,
)

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference"
DOCS = REFERENCE / "aster-finance-futures-api-v1.md"
FACTS = REFERENCE / "FACTS.md"

# Codes Aster sends that its docs leave out (FACTS.md; -4167 is -4168's counterpart).
UNDOCUMENTED = {-1131, -4167, -4168, -4171}


def _parse_docs(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(code, NAME, texts) for every '> -1021 INVALID_TIMESTAMP' entry of '# Error Codes'.

    Backticks are markdown code spans, not characters of the message; trailing blanks are
    markdown line breaks.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# Error Codes"))
    entries: list[tuple[int, str, list[str]]] = []
    for line in lines[start:]:
        header = re.match(r"^>\s*(-\d+)\s+([A-Z_]+)\s*$", line)
        if header:
            entries.append((int(header[1]), header[2], []))
            continue
        text = re.match(r"^\s*\*\s+(.*?)\s*$", line)
        if text and entries:
            entries[-1][2].append(text[1].replace("`", ""))
    return [(code, name, tuple(texts)) for code, name, texts in entries]


if DOCS.exists():
    DOC_ENTRIES = [pytest.param(*entry, id=str(entry[0])) for entry in _parse_docs(DOCS)]
else:
    DOC_ENTRIES = [
        pytest.param(0, "", (), marks=pytest.mark.skip(reason=f"Aster docs not found at {DOCS}"))
    ]

needs_docs = pytest.mark.skipif(not DOCS.exists(), reason=f"Aster docs not found at {DOCS}")
needs_facts = pytest.mark.skipif(not FACTS.exists(), reason=f"FACTS.md not found at {FACTS}")


# -- Every documented code -------------------------------------------------------------------


@needs_docs
def test_the_docs_parser_reads_the_whole_section() -> None:
    entries = _parse_docs(DOCS)

    assert len(entries) == 158
    assert entries[0] == (
        -1000,
        "UNKNOWN",
        ("An unknown error occured while processing the request.",),
    )
    assert entries[-1][:2] == (-4184, "PRICE_LOWER_THAN_STOP_MULTIPLIER_DOWN")
    assert all(texts for _, _, texts in entries)


@pytest.mark.parametrize(("code", "name", "texts"), DOC_ENTRIES)
def test_every_documented_code_has_a_class_with_the_docs_name_and_texts(
    code: int, name: str, texts: tuple[str, ...]
) -> None:
    cls = ERRORS[code]

    assert cls.code == code
    assert cls.name == name
    assert cls.messages == texts
    # Class name is the CamelCase of the NAME, with the docs' two spelling slips mended.
    mended = name.replace("SUFFICIEN", "SUFFICIENT").replace("SUFFICIENTT", "SUFFICIENT")
    mended = mended.replace("HIGHTER", "HIGHER")
    assert cls.__name__ == "".join(part.capitalize() for part in mended.split("_"))


@needs_docs
def test_the_registry_holds_the_documented_codes_and_the_undocumented_ones_only() -> None:
    documented = {code for code, _, _ in _parse_docs(DOCS)}

    assert set(ERRORS) == documented | UNDOCUMENTED
    assert not documented & UNDOCUMENTED


@pytest.mark.parametrize(
    ("family", "low", "high"),
    [
        (ServerError, -1099, -1000),
        (RequestError, -1199, -1100),
        (ProcessingError, -2099, -2000),
        (FilterError, -4999, -4000),
    ],
)
def test_every_registered_class_subclasses_the_family_of_its_range(
    family: type[AsterError], low: int, high: int
) -> None:
    in_range = {code for code in ERRORS if low <= code <= high}

    assert in_range
    assert all(issubclass(ERRORS[code], family) for code in in_range)
    assert all(not issubclass(ERRORS[code], family) for code in set(ERRORS) - in_range)


# -- FACTS.md -------------------------------------------------------------------------------

# (code, HTTP status, texts) from the FACTS.md error table, exact. A text with a placeholder is
# what ``format`` must produce; the first text without one is ``default_msg``.
FACTS_TABLE: list[tuple[int, int, tuple[str, ...]]] = [
    (-1102, 400, ("Mandatory parameter '%s' was not sent, was empty/null, or malformed.",)),
    (-2014, 401, ("API-key format invalid.",)),
    (-2015, 401, ("Invalid API-key, IP, or permissions for action.",)),
    (
        -1021,
        400,
        (
            "Timestamp for this request is outside of the recvWindow.",
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ),
    ),
    (-1131, 400, ("'recvWindow' must be less than 60000.",)),
    (-1022, 400, ("Signature for this request is not valid.",)),
    (-1121, 400, ("Invalid symbol.",)),
    (-1130, 400, ("Data sent for parameter '%s' is not valid.",)),
    (-1023, 400, ("Start time is greater than end time.",)),
    (-1003, 429, ()),  # FACTS gives "Too many requests; ..." only
    (-4028, 400, ("Leverage %s is not valid",)),
    (-2027, 400, ("Exceeded the maximum allowable position at current leverage.",)),
    (-4046, 400, ("No need to change margin type.",)),
    (-4047, 400, ("Margin type cannot be changed if there exists open orders.",)),
    (-4048, 400, ("Margin type cannot be changed if there exists position.",)),
    (-4049, 400, ("Add margin only support for isolated position.",)),
    (-4054, 400, ("Cannot add position margin: position is 0.",)),
    (-4055, 400, ("Amount must be positive.",)),
    (-4060, 400, ("Invalid position side.",)),
    (-4050, 400, ("Cross balance insufficient.",)),
    (-4051, 400, ("Isolated balance insufficient.",)),
    (-4059, 400, ("No need to change position side.",)),
    (-4067, 400, ("Position side cannot be changed if there exists open orders.",)),
    (-4068, 400, ("Position side cannot be changed if there exists position.",)),
    (
        -4171,
        400,
        ("Adjusted asset mode is currently set and does not need to be adjusted repeatedly",),
    ),
    (-4168, 400, ("Unable to adjust to isolated-margin mode under the Multi-Assets mode.",)),
    (-4114, 400, ("Client tran id length should be less than 64 chars",)),
    (-4115, 400, ("Client tran id should be unique within 7 days",)),
    (-2018, 400, ("Balance is insufficient.",)),
    (-1125, 400, ("This listenKey does not exist.",)),
]


@needs_facts
def test_the_facts_table_above_covers_every_code_of_facts_md() -> None:
    table = FACTS.read_text(encoding="utf-8").split("## Errors", 1)[1].split("\n## ", 1)[0]
    codes_in_facts = {
        int(code)
        for row in table.splitlines()
        if row.startswith("|")
        for code in re.findall(r"-\d{4}", row.split("|")[2])
    }

    assert len(codes_in_facts) == 30
    assert codes_in_facts == {code for code, _, _ in FACTS_TABLE}


@pytest.mark.parametrize(
    ("code", "status", "texts"), FACTS_TABLE, ids=[str(c) for c, _, _ in FACTS_TABLE]
)
def test_every_facts_code_is_registered_with_the_facts_text_and_status(
    code: int, status: int, texts: tuple[str, ...]
) -> None:
    cls = ERRORS[code]
    plain = [text for text in texts if "%s" not in text]
    templated = [text for text in texts if "%s" in text]

    assert cls.default_status == status
    assert cls().http_status == status
    if plain:
        assert cls.default_msg == plain[0]
    for text in plain:
        assert text == cls.default_msg or text in cls.messages
    for text in templated:
        args = ["X"] * text.count("%s")
        assert cls.format(*args) == text.replace("%s", "X")


def test_the_undocumented_codes_have_their_own_classes() -> None:
    assert ERRORS[-1131] is BadRecvWindow
    assert issubclass(BadRecvWindow, RequestError)
    assert BadRecvWindow.name == "BAD_RECV_WINDOW"
    assert issubclass(ERRORS[-4167], FilterError)
    assert issubclass(ERRORS[-4168], FilterError)
    assert issubclass(ERRORS[-4171], FilterError)


# -- HTTP status ------------------------------------------------------------------------------

SPECIAL_STATUS = {-1000: 500, -1001: 503, -1006: 503, -1007: 503, -1016: 503, -1003: 429}
SPECIAL_STATUS |= {-2014: 401, -2015: 401}


@pytest.mark.parametrize("code", sorted(ERRORS), ids=str)
def test_http_status_is_400_except_where_the_docs_or_facts_say_otherwise(code: int) -> None:
    expected = SPECIAL_STATUS.get(code, 400)

    assert ERRORS[code].default_status == expected
    assert aster_error(code).http_status == expected


def test_a_given_http_status_wins_over_the_default() -> None:
    banned = TooManyRequests(http_status=418)

    assert banned.http_status == 418
    assert TooManyRequests().http_status == 429


# -- Fallback for unknown codes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "family"),
    [
        (-1099, ServerError),
        (-1050, ServerError),
        (-1190, RequestError),
        (-2099, ProcessingError),
        (-4999, FilterError),
        (-4500, FilterError),
    ],
)
def test_an_unknown_code_in_a_family_range_is_an_instance_of_that_family(
    code: int, family: type[AsterError]
) -> None:
    assert code not in ERRORS

    err = aster_error(code, "something new", http_status=400, attempt=2)

    assert type(err) is family
    assert err.code == code
    assert err.name == "UNKNOWN"
    assert err.msg == "something new"
    assert err.details == {"attempt": 2}
    assert err.to_wire() == {"code": code, "msg": "something new"}
    # The class keeps its own code: the fallback changed the instance only.
    assert family.code == -1000


@pytest.mark.parametrize("code", [-999, -1200, -1999, -3000, -5000, 1])
def test_a_code_outside_every_range_is_a_plain_aster_error(code: int) -> None:
    err = aster_error(code, "odd")

    assert type(err) is AsterError
    assert err.code == code


def test_a_registered_code_gives_its_class_with_message_status_and_details() -> None:
    err = aster_error(-1021, None, recv_window=5000)

    assert type(err) is InvalidTimestamp
    assert err.msg == "Timestamp for this request is outside of the recvWindow."
    assert err.http_status == 400
    assert err.details == {"recv_window": 5000}


# -- format -------------------------------------------------------------------------------


def test_format_fills_the_docs_text_with_as_many_placeholders() -> None:
    assert InvalidParameter.format("symbol") == "Data sent for parameter 'symbol' is not valid."
    assert (
        MandatoryParamEmptyOrMalformed.format("symbol")
        == "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
    )
    assert (
        MandatoryParamEmptyOrMalformed.format("orderId", "origClientOrderId")
        == "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"
    )
    assert InvalidLeverage.format(200) == "Leverage 200 is not valid"
    assert InvalidLeverage.format(20, "BTCUSDT") == "Leverage 20 already exist with BTCUSDT"


def test_format_without_arguments_is_the_default_message() -> None:
    assert InvalidParameter.format() == "Invalid data sent for a parameter."
    # FACTS.md's text wins over the docs' first one for -4114.
    assert ERRORS[-4114].format() == "Client tran id length should be less than 64 chars"
    assert ERRORS[-4114].messages[0] == "clientTranId  is not valid"


def test_format_prints_like_the_java_engine() -> None:
    # %b prints a boolean lowercase; %d an integer; a Decimal never in exponent form.
    assert (
        ERRORS[-4020].format("LIMIT", True)
        == "Target strategy invalid for orderType 'LIMIT',reduceOnly 'true'."
    )
    assert ERRORS[-4079].format(7, 42) == "duplicate options id 7 for user 42"
    assert ERRORS[-4164].format(Decimal("5E+0")) == (
        "Order's notional must be no smaller than 5 (unless you choose reduce only)"
    )


def test_where_two_texts_take_as_many_arguments_format_takes_the_first() -> None:
    assert TooManyRequests.format(2400) == (
        "Too many requests; current limit is 2400 requests per minute. "
        "Please use the websocket for live updates to avoid polling the API."
    )
    assert TooManyRequests.messages[3] == TooManyRequests.BANNED_UNTIL


def test_format_refuses_a_count_no_text_has() -> None:
    with pytest.raises(ValueError, match="no text with 3 placeholder"):
        InvalidParameter.format("a", "b", "c")


def test_formatted_is_an_instance_carrying_the_filled_text_and_the_numbers() -> None:
    err = InvalidLeverage.formatted(200, max_leverage=125)

    assert isinstance(err, InvalidLeverage)
    assert err.to_wire() == {"code": -4028, "msg": "Leverage 200 is not valid"}
    assert err.details == {"max_leverage": 125}


def test_default_message_is_the_first_text_without_placeholders() -> None:
    assert InvalidLeverage.default_msg == "Invalid leverage"
    assert ERRORS[-4020].default_msg == ERRORS[-4020].messages[0]  # its only text
    assert InvalidTimestamp.default_msg == InvalidTimestamp.OUTSIDE_RECV_WINDOW
    assert (
        InvalidTimestamp.AHEAD_OF_SERVER
        == "Timestamp for this request was 1000ms ahead of the server's time."
    )


# -- Wire shape and the exception itself -----------------------------------------------------


def test_to_wire_is_exactly_code_and_msg() -> None:
    err = ERRORS[-1121](requested="FOOUSDT")

    wire = err.to_wire()

    assert wire == {"code": -1121, "msg": "Invalid symbol."}
    assert list(json.loads(json.dumps(wire))) == ["code", "msg"]
    assert "FOOUSDT" not in json.dumps(wire)  # details never reach the wire


def test_str_names_code_and_name() -> None:
    err = RejectedMbxKey()

    assert str(err) == "-2015 REJECTED_MBX_KEY: Invalid API-key, IP, or permissions for action."
    assert err.headers == {}


def test_an_error_survives_pickling_with_code_status_and_details() -> None:
    err = from_response(503, b'{"code":-1001,"msg":"Internal error."}', {"X-Id": "1"})

    copy = pickle.loads(pickle.dumps(err))

    assert type(copy) is UnknownOutcome
    assert (copy.code, copy.name, copy.msg) == (-1001, "DISCONNECTED", "Internal error.")
    assert (copy.http_status, copy.headers) == (503, {"X-Id": "1"})


def test_a_second_class_for_a_code_is_refused_at_definition() -> None:
    before = dict(ERRORS)

    with pytest.raises(TypeError, match="registered twice"):

        class AgainError(ServerError):
            code = -1021
            name = "INVALID_TIMESTAMP"
            messages = ("again",)

    assert before == ERRORS


def test_a_class_outside_its_family_is_refused_at_definition() -> None:
    before = dict(ERRORS)

    with pytest.raises(TypeError, match="must subclass RequestError"):

        class MisfiledError(ServerError):
            code = -1198
            name = "MISFILED"
            messages = ("misfiled",)

    assert before == ERRORS


# -- Client-side classes -------------------------------------------------------------------


def test_client_side_classes_sit_in_the_tree_without_taking_over_a_code() -> None:
    assert issubclass(RateLimitError, TooManyRequests)
    assert issubclass(IPBannedError, TooManyRequests)
    assert not issubclass(IPBannedError, RateLimitError)
    assert issubclass(UnknownOutcome, ServerError)
    assert issubclass(TransportError, AsterError)
    assert not issubclass(TransportError, ServerError)
    assert ERRORS[-1003] is TooManyRequests
    assert ERRORS[-1007] is Timeout
    assert (TransportError().code, TransportError().http_status) == (0, 0)
    assert (RateLimitError().code, RateLimitError().http_status) == (-1003, 429)
    assert (IPBannedError().code, IPBannedError().http_status) == (-1003, 418)
    assert (UnknownOutcome().code, UnknownOutcome().http_status) == (-1007, 503)


# -- from_response ---------------------------------------------------------------------------


def test_a_json_error_becomes_its_registered_class_with_status_and_headers() -> None:
    body = b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}'

    err = from_response(400, body, {"X-MBX-USED-WEIGHT-1M": "12"})

    assert type(err) is InvalidTimestamp
    assert err.msg == "Timestamp for this request is outside of the recvWindow."
    assert err.http_status == 400
    assert err.headers == {"X-MBX-USED-WEIGHT-1M": "12"}


@pytest.mark.parametrize(
    "body",
    [
        '{"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}',
        {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
    ],
    ids=["str", "mapping"],
)
def test_a_body_may_be_text_or_already_parsed(body: str | dict[str, object]) -> None:
    err = from_response(401, body, None)

    assert type(err) is RejectedMbxKey
    assert err.http_status == 401


def test_an_unregistered_json_code_falls_back_to_its_family() -> None:
    err = from_response(400, b'{"code":-1190,"msg":"New."}', None)

    assert type(err) is RequestError
    assert (err.code, err.msg) == (-1190, "New.")


def test_429_is_a_rate_limit_error_with_retry_after_in_seconds() -> None:
    body = b'{"code":-1003,"msg":"Too many requests; please use the websocket for live updates."}'

    err = from_response(429, body, {"retry-after": "7"})

    assert type(err) is RateLimitError
    assert (err.code, err.name, err.http_status) == (-1003, "TOO_MANY_REQUESTS", 429)
    assert err.retry_after == 7.0
    assert err.msg == "Too many requests; please use the websocket for live updates."


def test_429_keeps_the_order_count_code_the_server_sent() -> None:
    body = b'{"code":-1015,"msg":"Too many new orders; current limit is 1200 orders per MINUTE."}'

    err = from_response(429, body, {"Retry-After": "30"})

    assert isinstance(err, RateLimitError)
    assert (err.code, err.name, err.retry_after) == (-1015, "TOO_MANY_ORDERS", 30.0)


@pytest.mark.parametrize(
    "headers", [None, {}, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, {"Retry-After": "-1"}]
)
def test_retry_after_is_none_without_a_number_of_seconds(headers: dict[str, str] | None) -> None:
    err = from_response(429, b"", headers)

    assert isinstance(err, RateLimitError)
    assert err.retry_after is None
    assert err.msg == TooManyRequests.default_msg


def test_418_is_an_ip_ban_with_its_end_read_from_the_message() -> None:
    sent = IPBannedError.until(1591702613943)  # as the server renders a ban
    assert sent.msg.startswith("Way too many requests; IP banned until 1591702613943. ")
    assert sent.http_status == 418

    err = from_response(418, json.dumps(sent.to_wire()), {"Retry-After": "120"})

    assert type(err) is IPBannedError
    assert err.http_status == 418
    assert err.banned_until_ms == 1591702613943
    assert err.retry_after == 120.0


def test_503_is_an_unknown_outcome_keeping_the_server_code() -> None:
    body = b'{"code":-1007,"msg":"Timeout waiting for response from backend server."}'

    err = from_response(503, body, None)

    assert type(err) is UnknownOutcome
    assert (err.code, err.name, err.http_status) == (-1007, "TIMEOUT", 503)
    assert err.msg == "Timeout waiting for response from backend server."


def test_503_without_a_body_is_an_unknown_outcome() -> None:
    err = from_response(503, None, None)

    assert type(err) is UnknownOutcome
    assert err.code == -1007
    assert err.msg == UnknownOutcome.default_msg


def test_an_unparsable_5xx_is_an_unknown_outcome_keeping_the_body() -> None:
    err = from_response(502, b"<html>502 Bad Gateway</html>", None)

    assert type(err) is UnknownOutcome
    assert err.http_status == 502
    assert err.details == {"body": "<html>502 Bad Gateway</html>"}


def test_a_json_5xx_other_than_503_is_the_server_error_it_names() -> None:
    err = from_response(500, b'{"code":-1000,"msg":"An unknown error occured."}', None)

    assert type(err) is Unknown
    assert isinstance(err, ServerError)
    assert err.http_status == 500


@pytest.mark.parametrize("body", [b"<html>403 Forbidden</html>", b'{"error": "no code"}', b"[1]"])
def test_an_unparsable_4xx_is_unknown_with_its_status_and_body(body: bytes) -> None:
    err = from_response(403, body, None)

    assert type(err) is Unknown
    assert err.code == -1000
    assert err.http_status == 403
    assert err.details == {"body": body.decode()}


def test_a_huge_unparsable_body_is_cut_short() -> None:
    err = from_response(500, "x" * 10_000, None)

    assert len(err.details["body"]) == 500


# -- __all__ ---------------------------------------------------------------------------------


def test_all_lists_every_public_class_and_function_and_nothing_else() -> None:
    public = {
        name
        for name, value in vars(errors).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == errors.__name__
        and (isinstance(value, type) or callable(value))
    }

    assert public | {"ERRORS"} == set(errors.__all__)
    assert {cls.__name__ for cls in ERRORS.values()} <= set(errors.__all__)
    assert len(errors.__all__) == len(set(errors.__all__))
