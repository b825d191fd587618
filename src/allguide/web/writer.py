"""Group commit for stored plans: one writer thread, one transaction per batch.

Creating a plan is the API's busiest write. Committing each plan on its own costs a
commit per request (and on SQLite, writers queue for the one write lock). Here requests
hand their row to a single writer thread that inserts whatever is waiting, commits once,
and then answers every request of the batch. A request still gets its response only after
its plan is committed, so a permalink works the moment it is returned.

If a batch fails, its plans are retried one by one, so one bad row cannot fail the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from allguide.store import Database, PlanRepository

log = logging.getLogger("allguide.web")

MAX_BATCH = 64


@dataclass(frozen=True)
class PlanRow:
    input_data: dict[str, Any]
    input_digest: str
    engine_version: str
    content_version: str
    plan_json: str
    created_by: str | None


_Job = tuple[PlanRow, asyncio.AbstractEventLoop, "asyncio.Future[str]"]


class PlanWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="allguide-plan-writer", daemon=True)
        self._thread.start()

    async def save(self, row: PlanRow) -> str:
        """Store `row`; returns the plan id once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self._jobs.put((row, loop, future))
        return await future

    def close(self) -> None:
        """Finish the queued plans, then stop the thread."""
        self._jobs.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Job]) -> None:
        try:
            with self.db.session() as session:
                repo = PlanRepository(session)
                ids = [_insert(repo, row) for row, _, _ in batch]
        except Exception:
            if len(batch) == 1:
                _, loop, future = batch[0]
                log.exception("could not store a plan")
                _settle(loop, future, error=RuntimeError("the plan could not be stored"))
                return
            for job in batch:  # find the bad row; store the others
                self._write([job])
            return
        for (_, loop, future), plan_id in zip(batch, ids, strict=True):
            _settle(loop, future, result=plan_id)


def _insert(repo: PlanRepository, row: PlanRow) -> str:
    return repo.save(
        row.input_data,
        row.input_digest,
        row.engine_version,
        row.content_version,
        row.plan_json,
        created_by=row.created_by,
    )


def _settle(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[str],
    *,
    result: str | None = None,
    error: BaseException | None = None,
) -> None:
    def apply() -> None:
        if future.done():  # the request was cancelled (client went away)
            return
        if error is not None:
            future.set_exception(error)
        else:
            assert result is not None
            future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop has closed (shutdown)
        loop.call_soon_threadsafe(apply)
