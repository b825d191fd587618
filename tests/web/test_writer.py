"""The group-commit plan writer: a batch commits together; one bad row fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from allguide.store import Database, NewPlan, PlanRepository
from allguide.web.writer import PlanWriter


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def _row(n: int, plan_json: Any = None) -> NewPlan:
    return NewPlan(
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

    ids = asyncio.run(save_all())
    assert len(set(ids)) == 40
    with db.session() as session:
        repo = PlanRepository(session)
        assert [repo.get(i).plan_json for i in ids] == [f'{{"n":{n}}}' for n in range(40)]  # type: ignore[union-attr]


def test_a_bad_row_fails_alone(db: Database) -> None:
    writer = PlanWriter(db)
    bad = NewPlan(**{**_row(1).__dict__, "plan_json": None})  # NOT NULL violation
    batches: list[int] = []
    write = writer._write

    def spy(batch: Any) -> None:
        batches.append(len(batch))
        write(batch)

    writer._write = spy  # type: ignore[method-assign]

    async def save_all() -> list[Any]:
        rows = [_row(0), bad, _row(2), _row(3)]
        return await asyncio.gather(*(writer.save(r) for r in rows), return_exceptions=True)

    first, failed, *others = asyncio.run(save_all())
    assert batches[0] == 4  # one batch, then each row on its own
    assert isinstance(failed, RuntimeError)
    with db.session() as session:
        repo = PlanRepository(session)
        assert [repo.get(i).input_digest for i in (first, *others)] == [  # type: ignore[union-attr]
            "sha256:0",
            "sha256:2",
            "sha256:3",
        ]


def test_close_stores_what_is_pending(db: Database) -> None:
    writer = PlanWriter(db)

    async def queue_and_close() -> asyncio.Future[str]:
        task = asyncio.ensure_future(writer.save(_row(7)))
        await asyncio.sleep(0)  # the save is pending, its flush not yet run
        writer.close()
        return task

    async def run() -> str:
        return await (await queue_and_close())

    plan_id = asyncio.run(run())
    with db.session() as session:
        assert PlanRepository(session).get(plan_id).input_digest == "sha256:7"  # type: ignore[union-attr]
