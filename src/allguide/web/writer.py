"""Group commit for stored plans, on the event loop.

Creating a plan is the API's busiest write. Committing each plan on its own costs a
commit per request. Here a request adds its plan to a pending batch and waits; one
callback per turn of the event loop inserts the whole batch with a single statement and
commits once, then answers every request of the batch. A request still gets its
response only after its plan is committed, so a permalink works the moment it is
returned.

Why on the loop and not in a writer thread: the plan engine is CPU-bound Python on the
loop, and a writer thread has to win the GIL back after every database call; that
hand-off made each request about 0.7 ms dearer and its latency less even
(`benchmarks/bench_api.py`). The write itself is short (a few hundred microseconds per
plan on SQLite; one round trip per batch on PostgreSQL).

If a batch fails, its plans are retried one by one, so one bad row cannot fail the others.
"""

from __future__ import annotations

import asyncio
import logging

from allguide.store import Database, NewPlan, PlanRepository

log = logging.getLogger("allguide.web")

MAX_BATCH = 64

_Job = tuple[NewPlan, "asyncio.Future[str]"]


class PlanWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[_Job] = []
        self._scheduled = False

    async def save(self, plan: NewPlan) -> str:
        """Store `plan`; returns its id once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self._pending.append((plan, future))
        if not self._scheduled:
            # after the callbacks already due: requests ready in this turn join the batch
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def close(self) -> None:
        """Store what is still pending (at shutdown)."""
        self._flush()

    def _flush(self) -> None:
        self._scheduled = False
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        try:
            with self.db.session() as session:
                ids = PlanRepository(session).save_many([plan for plan, _ in batch])
        except Exception:
            if len(batch) == 1:
                log.exception("could not store a plan")
                _settle(batch[0][1], error=RuntimeError("the plan could not be stored"))
                return
            for job in batch:  # find the bad row; store the others
                self._write([job])
            return
        for (_, future), plan_id in zip(batch, ids, strict=True):
            _settle(future, result=plan_id)


def _settle(
    future: asyncio.Future[str], *, result: str | None = None, error: BaseException | None = None
) -> None:
    if future.done():  # the request was cancelled (client went away)
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)
