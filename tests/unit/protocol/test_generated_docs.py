import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from aster_account.protocol.catalog import BY_NAME, ENDPOINTS

ROOT = Path(__file__).resolve().parents[3]
STALE = "is stale: run `python scripts/gen_docs.py` and commit the result"


@pytest.fixture(scope="module")
def gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spec(gen_docs: ModuleType) -> dict[str, Any]:
    rendered: dict[str, Any] = gen_docs.render_openapi()
    return rendered


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]


def test_committed_api_md_is_current(gen_docs: ModuleType) -> None:
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert committed == gen_docs.render_api_md(), f"docs/api.md {STALE}"


def test_committed_openapi_json_is_current(gen_docs: ModuleType) -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == gen_docs.render_openapi_json(), f"docs/openapi.json {STALE}"


def test_committed_sdk_md_is_current(gen_docs: ModuleType) -> None:
    committed = (ROOT / "docs" / "sdk.md").read_text(encoding="utf-8")
    assert committed == gen_docs.render_sdk_md(), f"docs/sdk.md {STALE}"


def test_sdk_md_documents_every_method_with_its_signature(gen_docs: ModuleType) -> None:
    from aster_account import Client

    text = gen_docs.render_sdk_md()
    for ep in ENDPOINTS:
        sig = Client.__dict__[ep.name].signature
        assert f"### {ep.name}\n" in text and f"client.{ep.name}(" in text
        assert f"-> {sig.return_annotation}" in text
    for name in ("iter_income", "iter_position_margin_history", "iter_force_orders"):
        assert f"client.{name}(" in text
    assert "resync: bool = True" in text  # user_stream's signature as it is now


def test_check_mode_agrees(gen_docs: ModuleType) -> None:
    assert gen_docs.main(["--check"]) == 0, f"docs {STALE}"


def test_openapi_json_is_deterministic(gen_docs: ModuleType) -> None:
    text = gen_docs.render_openapi_json()
    assert text == gen_docs.render_openapi_json()
    assert text.endswith("}\n")
    assert json.loads(text) == gen_docs.render_openapi()


def test_header_and_servers(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    assert [s["url"] for s in spec["servers"]] == [
        "https://fapi.asterdex.com",
        "http://127.0.0.1:8080",
    ]
    scheme = spec["components"]["securitySchemes"]["ApiKey"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "X-MBX-APIKEY"}
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"] == {"code": {"type": "integer"}, "msg": {"type": "string"}}


def test_every_operation_is_labelled(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    assert sorted(ids) == sorted(e.name for e in ENDPOINTS)
    for method, path, op in operations:
        endpoint = BY_NAME[op["operationId"]]
        assert (method, path) == (endpoint.method, endpoint.path)
        assert op["x-security"] == endpoint.security.value
        assert isinstance(op["x-weight"], int | dict)
        assert op["summary"] == endpoint.summary
        assert op["responses"]["200"]["description"] == endpoint.result
        assert op["responses"]["default"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        assert ("security" in op) == endpoint.security.needs_key


def test_weights(spec: dict[str, Any]) -> None:
    ops = {op["operationId"]: op for _, _, op in _operations(spec)}
    assert ops["get_force_orders"]["x-weight"] == {"base": 20, "without": {"symbol": 50}}
    assert ops["get_open_orders"]["x-weight"] == {"base": 1, "without": {"symbol": 40}}
    assert ops["get_income"]["x-weight"] == 30


def test_parameters(spec: dict[str, Any]) -> None:
    ops = {op["operationId"]: op for _, _, op in _operations(spec)}
    leverage = {p["name"]: p for p in ops["set_leverage"]["parameters"]}
    assert leverage["leverage"]["schema"]["type"] == "integer"
    # no range in the schema: the server answers -4028 out of range (FACTS.md), not -1130
    assert "minimum" not in leverage["leverage"]["schema"]
    income = {p["name"]: p for p in ops["get_income"]["parameters"]}
    assert income["limit"]["schema"]["maximum"] == 1000
    assert leverage["signature"]["required"] is True
    assert leverage["signature"]["schema"]["pattern"] == "^[0-9a-fA-F]{64}$"
    assert all(p["in"] == "query" for p in leverage.values())
    margin = {p["name"]: p["schema"] for p in ops["modify_position_margin"]["parameters"]}
    assert margin["amount"]["type"] == "string"
    assert "pattern" in margin["amount"]
    assert margin["type"]["enum"] == [1, 2]
    income = {p["name"]: p["schema"] for p in ops["get_income"]["parameters"]}
    assert income["limit"]["default"] == 100
    assert len(income["incomeType"]["enum"]) == 7
    assert "requestBody" not in ops["get_income"]
    body = ops["set_leverage"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert set(body["schema"]["properties"]) == set(leverage)
    assert body["schema"]["required"] == ["symbol", "leverage", "timestamp", "signature"]
    assert "signature" not in {p["name"] for p in ops["new_listen_key"]["parameters"]}
    assert "requestBody" not in ops["new_listen_key"]  # no parameters to put in a body


def test_api_md_has_one_row_per_endpoint(gen_docs: ModuleType) -> None:
    text = gen_docs.render_api_md()
    assert "Generated by `python scripts/gen_docs.py` from" in text
    assert "`src/aster_account/protocol/catalog.py`" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    for endpoint in ENDPOINTS:
        arrow = f"`{endpoint.method.lower()} {endpoint.path} → "
        assert sum(line.startswith(f"| {endpoint.name} |") for line in rows) == 1, endpoint.name
        assert any(arrow in line for line in rows), endpoint.name
    assert "| 20 with symbol, 50 without |" in text
    assert "`post /fapi/v1/leverage → LeverageResult`" in text
    assert "symbol\\*, leverage\\*" in text


def test_check_mode_reports_stale_and_write_mode_fixes_it(
    gen_docs: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(gen_docs, "API_MD", tmp_path / "api.md")
    monkeypatch.setattr(gen_docs, "OPENAPI_JSON", tmp_path / "openapi.json")
    (tmp_path / "api.md").write_text("old\n", encoding="utf-8")
    assert gen_docs.main(["--check"]) == 1
    assert "api.md is stale: run `python scripts/gen_docs.py`" in capsys.readouterr().err
    assert gen_docs.main([]) == 0
    assert gen_docs.main(["--check"]) == 0
    assert (tmp_path / "api.md").read_text(encoding="utf-8") == gen_docs.render_api_md()
