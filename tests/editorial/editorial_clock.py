"""A hand-moved clock for the editorial tests (import by name)."""

from __future__ import annotations

import datetime as dt


class Clock:
    """A clock the test moves by hand (the service never reads the real time)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += dt.timedelta(minutes=minutes)
