"""The group-commit plan writer: batches commit together; one bad row fails alone."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from allguide.store import Database, PlanRepository
from allguide.web.writer import PlanRow, PlanWriter


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def _row(n: int, plan_json: Any = None) -> PlanRow:
    return PlanRow(
        input_data={"age_years": n},
        input_digest=f"sha256:{n}",
        engine_version="0.1.0",
        content_version="v1",
        plan_json=plan_json if plan_json is not None else f'{{"n":{n}}}',
        created_by=None,
    )


def test_concurrent_saves_are_committed_and_readable(db: Database) -> None:
    writer = PlanWriter(db)

    async def save_all() -> list[str]:
        return await asyncio.gather(*(writer.save(_row(n)) for n in range(40)))

    try:
        ids = asyncio.run(save_all())
    finally:
        writer.close()
    assert len(set(ids)) == 40
    with db.session() as session:
        repo = PlanRepository(session)
        assert [repo.get(i).plan_json for i in ids] == [f'{{"n":{n}}}' for n in range(40)]  # type: ignore[union-attr]


def test_a_bad_row_fails_alone(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import allguide.web.writer as writer_module

    real_insert = writer_module._insert
    started = threading.Event()

    def slow_first(repo: PlanRepository, row: PlanRow) -> str:
        if not started.is_set():  # hold the first batch so the next rows queue up together
            started.set()
            time.sleep(0.3)
        return real_insert(repo, row)

    monkeypatch.setattr(writer_module, "_insert", slow_first)
    writer = PlanWriter(db)
    bad = PlanRow(**{**_row(1).__dict__, "plan_json": None})  # NOT NULL violation

    async def save_all() -> list[Any]:
        first = asyncio.ensure_future(writer.save(_row(0)))
        await asyncio.to_thread(started.wait)
        rest = await asyncio.gather(
            writer.save(bad), writer.save(_row(2)), writer.save(_row(3)), return_exceptions=True
        )
        return [await first, *rest]

    try:
        first, failed, *others = asyncio.run(save_all())
    finally:
        writer.close()
    assert isinstance(failed, RuntimeError)
    with db.session() as session:
        repo = PlanRepository(session)
        assert all(repo.get(i) is not None for i in (first, *others))
