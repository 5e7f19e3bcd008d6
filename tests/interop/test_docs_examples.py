"""Every response / payload example of the official v1 docs parses into our model and back.

For each section we model, the ```javascript blocks that follow "> **Response:**" or
"> **Payload:**" (and their "OR" alternatives) are cleaned, parsed with `from_wire` and written
again with `to_wire`; the result must carry the same keys, with the same JSON types, as the
example, and keep the example's key order where the docs give our order. The few places where we
differ from the docs on purpose are listed in DEVIATIONS, each with its reason.

The examples are not JSON: they have `//` comments, trailing commas, single quotes, a full-width
comma and missing commas between members. `clean_js` is a small tolerant tokenizer that fixes
exactly those, so a new kind of damage in the docs fails loudly rather than being guessed at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aster_account.protocol import models as m
from aster_account.protocol.wire import from_wire, to_wire

DOCS = (
    Path(__file__).resolve().parents[2].parent / "shared/reference/aster-finance-futures-api-v1.md"
)

pytestmark = pytest.mark.skipif(
    not DOCS.is_file(), reason=f"official v1 docs not found at {DOCS} (shared reference checkout)"
)

# section heading (as in the docs, spacing included) -> the model of one object of its reply
SECTIONS: dict[str, type[Any]] = {
    "Test Connectivity": m.Empty,
    "Check Server Time": m.ServerTime,
    "Exchange Information": m.ExchangeInfo,
    "Mark Price": m.PremiumIndex,
    "Change Position Mode(TRADE)": m.CodeMsg,
    "Get Current Position Mode(USER_DATA)": m.PositionMode,
    "Change Multi-Assets Mode (TRADE)": m.CodeMsg,
    "Get Current Multi-Assets Mode (USER_DATA)": m.MultiAssetsMode,
    "New Order  (TRADE)": m.Order,
    "Place Multiple Orders  (TRADE)": m.Order,
    "Transfer Between Futures And Spot (TRANSFER)": m.TransferResult,
    "Query Order (USER_DATA)": m.Order,
    "Cancel Order (TRADE)": m.Order,
    "Cancel All Open Orders (TRADE)": m.CancelAllResult,
    "Cancel Multiple Orders (TRADE)": m.Order,
    "Auto-Cancel All Open Orders (TRADE)": m.CountdownCancelAll,
    "Query Current Open Order (USER_DATA)": m.Order,
    "Current All Open Orders (USER_DATA)": m.Order,
    "All Orders (USER_DATA)": m.Order,
    "Futures Account Balance V2 (USER_DATA)": m.BalanceRow,
    "Account Information V4 (USER_DATA)": m.AccountInfo,
    "Change Initial Leverage (TRADE)": m.LeverageResult,
    "Change Margin Type (TRADE)": m.CodeMsg,
    "Modify Isolated Position Margin (TRADE)": m.PositionMarginResult,
    "Get Position Margin Change History (TRADE)": m.MarginHistoryEntry,
    "Position Information V2 (USER_DATA)": m.PositionRisk,
    "Account Trade List (USER_DATA)": m.Trade,
    "Get Income History(USER_DATA)": m.Income,
    "Notional and Leverage Brackets (USER_DATA)": m.SymbolBrackets,
    "Position ADL Quantile Estimation (USER_DATA)": m.AdlQuantile,
    "User's Force Orders (USER_DATA)": m.ForceOrder,
    "User Commission Rate (USER_DATA)": m.CommissionRate,
    "Remaining Openable Notional Value (USER_DATA)": m.RemainingOpenable,
    "Start User Data Stream (USER_STREAM)": m.ListenKey,
    "Keepalive User Data Stream (USER_STREAM)": m.Empty,
    "Close User Data Stream (USER_STREAM)": m.Empty,
    "Event: User Data Stream Expired": m.ListenKeyExpired,
    "Event: Margin Call": m.MarginCall,
    "Event: Balance and Position Update": m.AccountUpdate,
    "Event: Order Update": m.OrderTradeUpdate,
    "Event: Account Configuration Update previous Leverage Update": m.AccountConfigUpdate,
}

# The docs show the order object in three key orders (see models.Order); we follow the new-order
# reply, so these sections are checked for keys and types but not for key order.
ORDER_VARIANTS = {
    "Query Order (USER_DATA)",
    "Cancel Order (TRADE)",
    "Cancel Multiple Orders (TRADE)",
    "Query Current Open Order (USER_DATA)",
    "Current All Open Orders (USER_DATA)",
    "All Orders (USER_DATA)",
}


@dataclass(frozen=True)
class Deviation:
    """A key of one object where our reply differs from the docs' example on purpose."""

    json_type: str  # JSON type we send
    reason: str
    added: Any = None  # a sample value when the docs' example lacks the key entirely


# (section, key) -> deviation. Keys are top-level keys of one reply object.
DEVIATIONS: dict[tuple[str, str], Deviation] = {
    ("Futures Account Balance V2 (USER_DATA)", "updateTime"): Deviation(
        "string", "FACTS.md [L]: live /fapi/v2/balance sends updateTime as a string"
    ),
    ("Position Information V2 (USER_DATA)", "notional"): Deviation(
        "string", "FACTS.md [L]: live positionRisk rows carry notional", added="0"
    ),
    ("Position Information V2 (USER_DATA)", "isolatedWallet"): Deviation(
        "string", "FACTS.md [L]: live positionRisk rows carry isolatedWallet", added="0"
    ),
    ("Place Multiple Orders  (TRADE)", "closePosition"): Deviation(
        "boolean",
        "the batch example drops closePosition, which every single-order example has; "
        "one Order shape serves both",
        added=False,
    ),
}


# -- extracting the examples --------------------------------------------------------------------

_MARKER = re.compile(r"^>\s*\*\*(Response|Payload):\*\*")


def docs_examples(text: str) -> dict[str, list[str]]:
    """Section heading -> the javascript blocks that follow its Response / Payload marker."""
    out: dict[str, list[str]] = {}
    heading = None
    armed = False
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip().startswith("```"):
            block = []
            for inner in lines:
                if inner.strip() == "```":
                    break
                block.append(inner)
            if armed and heading is not None and line.strip() == "```javascript":
                out.setdefault(heading, []).append("\n".join(block))
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
            armed = False
        elif _MARKER.match(line):
            armed = True
        elif line.startswith("``"):
            armed = False  # the endpoint line ends the examples of a section
    return out


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*)
  | (?P<dq>"(?:[^"\\]|\\.)*")
  | (?P<sq>'(?:[^'\\]|\\.)*')
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<lit>true|false|null)
  | (?P<punct>[{}\[\]:,])
  | (?P<wide_comma>，)
    """,
    re.VERBOSE,
)
_VALUE_END = {"str", "num", "lit", "}", "]"}
_VALUE_START = {"str", "num", "lit", "{", "["}


def clean_js(block: str) -> Any:
    """Parse a docs example: drop comments and trailing commas, add missing commas, requote."""
    tokens: list[tuple[str, str]] = []  # (role, json text)
    pos = 0
    while pos < len(block):
        match = _TOKEN.match(block, pos)
        if match is None:
            raise ValueError(f"unexpected text in docs example: {block[pos : pos + 40]!r}")
        pos = match.end()
        group = match.lastgroup
        text = match.group()
        if group in ("ws", "comment"):
            continue
        if group == "dq":
            tokens.append(("str", text))
        elif group == "sq":
            tokens.append(("str", json.dumps(text[1:-1])))
        elif group in ("num", "lit"):
            tokens.append((group, text))
        else:
            punct = "," if group == "wide_comma" else text
            tokens.append((punct, punct))
    fixed: list[str] = []
    for index, (role, text) in enumerate(tokens):
        following = tokens[index + 1][0] if index + 1 < len(tokens) else None
        if role == "," and following in ("}", "]", ","):
            continue  # trailing comma
        fixed.append(text)
        if role in _VALUE_END and following in _VALUE_START:
            fixed.append(",")  # a missing comma between two members
    return json.loads("".join(fixed))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_diff(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where `ours` differs from `theirs` in keys or JSON types, recursively."""
    if json_type(ours) != json_type(theirs):
        return [f"{path or '.'}: {json_type(ours)} != docs {json_type(theirs)}"]
    if isinstance(theirs, dict):
        problems = []
        if set(ours) != set(theirs):
            problems.append(f"{path or '.'}: keys {sorted(ours)} != docs {sorted(theirs)}")
        for key in set(ours) & set(theirs):
            problems += shape_diff(ours[key], theirs[key], f"{path}.{key}")
        return problems
    if isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items != docs {len(theirs)}"]
        return [p for o, t in zip(ours, theirs, strict=True) for p in shape_diff(o, t, f"{path}[]")]
    return []


# -- the tests -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples() -> dict[str, list[str]]:
    return docs_examples(DOCS.read_text(encoding="utf-8"))


def test_cleaner_handles_the_damage_found_in_the_docs() -> None:
    block = """{
      'e': 'x',            // single quotes and a comment
      "a": "1"             // missing comma
      "b": [ {"c": 1}, ],  // trailing comma
      "d": {"f": true}，   // full-width comma
      "g": "http://h"
    }"""
    assert clean_js(block) == {
        "e": "x",
        "a": "1",
        "b": [{"c": 1}],
        "d": {"f": True},
        "g": "http://h",
    }


def test_every_modelled_section_has_an_example(examples: dict[str, list[str]]) -> None:
    missing = [heading for heading in SECTIONS if heading not in examples]
    assert missing == []


def test_deviations_name_modelled_sections() -> None:
    assert {section for section, _ in DEVIATIONS} <= set(SECTIONS)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_docs_example_round_trips(section: str, examples: dict[str, list[str]]) -> None:
    cls = SECTIONS[section]
    blocks = examples[section]
    assert blocks, section
    for block in blocks:
        parsed = clean_js(block)
        items = parsed if isinstance(parsed, list) else [parsed]
        for item in items:
            if "code" in item and "msg" in item and cls not in (m.CodeMsg, m.CancelAllResult):
                continue  # a per-item error inside a batch reply, rendered by protocol.errors
            check_item(section, cls, item)


def check_item(section: str, cls: type[Any], example: dict[str, Any]) -> None:
    docs_keys = list(example)
    example = dict(example)
    expected = dict(example)
    for (where, key), deviation in DEVIATIONS.items():
        if where != section:
            continue
        if key not in example:
            assert deviation.added is not None, f"{section}: {key} missing but no sample value"
            example[key] = deviation.added
        expected[key] = {"string": "", "number": 0, "boolean": False}[deviation.json_type]

    obj = from_wire(cls, example, strict=True)
    out = to_wire(obj)

    assert shape_diff(out, expected) == [], section
    assert from_wire(cls, out) == obj
    if cls in m.EVENTS.values():
        assert m.parse_event(example) == obj
    if section not in ORDER_VARIANTS:
        assert [key for key in out if key in docs_keys] == docs_keys, section
