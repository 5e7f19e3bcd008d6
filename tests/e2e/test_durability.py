"""A mutating request commits before it answers (DESIGN.md "store").

The server is killed with SIGKILL straight after its last answer (no shutdown hook runs), then
started again on the same database: everything it acknowledged must be there. On both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

D = Decimal


def test_acknowledged_changes_survive_sigkill(
    start_server: Callable[..., Any], connect: Callable[..., Any]
) -> None:
    srv = start_server()
    op = connect(srv)
    t = op.create_account(futures={"USDT": "1000"}, spot={"USDT": "100"})
    op.set_mark("ETHUSDT", "3000")
    t.post("/fapi/v1/leverage", symbol="ETHUSDT", leverage=10)
    t.post("/fapi/v1/marginType", symbol="ETHUSDT", marginType="ISOLATED")
    # 0.1 ETH at 3000, 10x: isolated wallet 30; commission 0.1 x 3000 x 0.00035 = 0.105
    t.post("/fapi/v1/order", symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.1")
    listen_key = t.ok("POST", "/fapi/v1/listenKey")["listenKey"]
    before = t.get("/fapi/v1/income")

    added = t.post("/fapi/v1/positionMargin", symbol="ETHUSDT", amount="12.5", type=1)
    moved = t.post(
        "/fapi/v1/asset/wallet/transfer",
        amount="100",
        asset="USDT",
        clientTranId="durable-1",
        kindType="FUTURE_SPOT",
    )
    srv.kill()  # straight after the answer: nothing else had a chance to flush
    srv.start()

    assert srv.starts == 2
    assert added["amount"] == 12.5
    # transfer: income row, wallets, and its clientTranId is still taken
    income = t.get("/fapi/v1/income")
    assert income[: len(before)] == before
    [new] = income[len(before) :]
    assert (new["incomeType"], D(new["income"]), new["tranId"]) == (
        "TRANSFER",
        D("-100"),
        str(moved["tranId"]),
    )
    state = op.state(t.account_id)
    assert D(state["spot"]["USDT"]) == D("200")  # 100 + 100
    assert D(state["futures"]["USDT"]) == D("899.895")  # 1000 - 0.105 - 100
    again = t.send(
        "POST",
        "/fapi/v1/asset/wallet/transfer",
        {"amount": "1", "asset": "USDT", "clientTranId": "durable-1", "kindType": "FUTURE_SPOT"},
    )
    assert again.json() == {"code": -4115, "msg": "Client tran id should be unique within 7 days"}
    # isolated margin: history and the position's wallet (30 + 12.5)
    history = t.get("/fapi/v1/positionMargin/history", symbol="ETHUSDT")
    assert [(D(h["amount"]), h["type"]) for h in history] == [(D("12.5"), 1)]
    [risk] = t.get("/fapi/v2/positionRisk", symbol="ETHUSDT")
    assert risk["marginType"] == "isolated"
    assert risk["leverage"] == "10"
    assert D(risk["positionAmt"]) == D("0.1")
    assert D(risk["entryPrice"]) == D("3000")
    assert D(risk["isolatedWallet"]) == D("42.5")
    assert D(risk["markPrice"]) == D("3000")  # marks are stored too
    [balance] = t.get("/fapi/v2/balance")
    assert D(balance["balance"]) == D("899.895")
    assert D(balance["crossWalletBalance"]) == D("857.395")  # 899.895 - 42.5
    # the user data stream key outlives the process
    assert t.ok("POST", "/fapi/v1/listenKey")["listenKey"] == listen_key


def test_state_survives_repeated_kills(
    start_server: Callable[..., Any], connect: Callable[..., Any]
) -> None:
    srv = start_server()
    op = connect(srv)
    t = op.create_account(futures={"USDT": "500"})
    op.set_mark("BTCUSDT", "60000")

    for i in range(2):
        t.post("/fapi/v1/leverage", symbol="BTCUSDT", leverage=5 + i)
        t.post("/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        snapshot = op.state(t.account_id)
        srv.kill()
        srv.start()
        assert op.state(t.account_id) == snapshot

    [risk] = t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert D(risk["positionAmt"]) == D("0.002")
    assert risk["leverage"] == "6"
    # 2 fills of 0.001 x 60000 x 0.00035 = 0.021 each
    commissions = t.get("/fapi/v1/income", incomeType="COMMISSION")
    assert [D(r["income"]) for r in commissions] == [D("-0.021")] * 2
    assert D(t.get("/fapi/v2/balance")[0]["balance"]) == D("499.958")
    # ids keep growing after restarts: no tranId handed out twice
    tran_ids = [r["tranId"] for r in t.get("/fapi/v1/income")]
    assert len(set(tran_ids)) == len(tran_ids)
