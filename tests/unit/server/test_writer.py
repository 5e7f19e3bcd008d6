"""Group commit (server.writer) on SQLite: batching, isolation, events after commit."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aster_account.engine import account as ops
from aster_account.protocol.enums import TransferKind
from aster_account.protocol.errors import AsterError
from aster_account.server.main import ServerConfig, build
from aster_account.server.service import Service


@pytest.fixture
def service(tmp_path: Path) -> Any:
    _, svc = build(ServerConfig(db=f"sqlite:///{tmp_path}/w.db", operator_token="T"))
    yield svc
    svc.stop_group_commit()
    svc.store.close()


def _transfer(svc: Service, account_id: int, cid: str, amount: str = "1") -> Any:
    return svc.mutate(
        account_id,
        ops.transfer,
        asset="USDT",
        amount=Decimal(amount),
        kind=TransferKind.FUTURE_SPOT,
        client_tran_id=cid,
    )


def test_sqlite_service_writes_through_the_group_commit_writer(service: Service) -> None:
    assert service.writer is not None


def test_concurrent_mutations_all_commit_once_each(service: Service) -> None:
    # Arrange: one account with 1000 USDT, 16 threads x 25 transfers of 1 USDT out
    account_id, _, _ = service.create_account(futures={"USDT": Decimal(1000)})
    errors: list[BaseException] = []

    def run(t: int) -> None:
        for i in range(25):
            try:
                _transfer(service, account_id, f"t{t}-{i}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

    # Act
    threads = [threading.Thread(target=run, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    # Assert: 400 transfers, wallet = 1000 - 400 = 600, and equal to its ledger
    assert errors == []
    acct = service.store.load_account(account_id)
    assert acct is not None
    assert acct.futures["USDT"] == Decimal(600)
    assert acct.spot["USDT"] == Decimal(400)
    assert service.store.ledger_sum(account_id, "USDT") == Decimal(600)


def test_a_failing_job_is_undone_alone(service: Service) -> None:
    # Arrange: 10 USDT; a reused clientTranId fails (-4115), an overdraw fails (-2018)
    account_id, _, _ = service.create_account(futures={"USDT": Decimal(10)})
    _transfer(service, account_id, "once")
    assert service.writer is not None
    barrier = threading.Event()
    blocker = service.writer.submit(barrier.wait)  # holds the writer so the next jobs batch

    # Act: three jobs land in one batch
    jobs = [
        service.writer.submit(lambda: _transfer(service, account_id, "a", "2")),
        service.writer.submit(lambda: _transfer(service, account_id, "once", "1")),
        service.writer.submit(lambda: _transfer(service, account_id, "b", "1000")),
    ]
    barrier.set()
    blocker.result(timeout=10)

    # Assert: the good one committed; each bad one got its own code and left no trace
    jobs[0].result(timeout=10)
    with pytest.raises(AsterError) as dup:
        jobs[1].result(timeout=10)
    with pytest.raises(AsterError) as over:
        jobs[2].result(timeout=10)
    assert (dup.value.code, over.value.code) == (-4115, -2018)
    acct = service.store.load_account(account_id)
    assert acct is not None
    assert acct.futures["USDT"] == Decimal(7)  # 10 - 1 ("once") - 2 ("a")
    assert service.store.ledger_sum(account_id, "USDT") == Decimal(7)


def test_events_are_published_only_after_the_commit(service: Service) -> None:
    # Arrange: a listener that checks the change is already visible in the store
    account_id, _, _ = service.create_account(futures={"USDT": Decimal(10)})
    seen: list[Decimal] = []

    def listener(acct_id: int, events: list[Any]) -> None:
        acct = service.store.load_account(acct_id)  # another connection: committed data only
        assert acct is not None
        seen.append(acct.futures["USDT"])

    service.listeners.append(listener)

    # Act
    _transfer(service, account_id, "x", "3")

    # Assert: the one event batch saw the committed wallet (10 - 3)
    assert seen == [Decimal(7)]
