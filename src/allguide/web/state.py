"""What the running app serves: the content pack and its ask index, swapped atomically.

Requests read `ContentState.current` once and use that `Served` snapshot throughout, so a
request never mixes two content versions. When editorial approval (in this process or
another worker) changes the content version, `refresh()` builds the new pack and index
first and then replaces the snapshot in one assignment; requests in flight finish on the
old one.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass

from allguide.ask import AskIndex
from allguide.knowledge.pack import ContentPack
from allguide.store import ContentRepository, ContentVersionRecord, Database

log = logging.getLogger("allguide.web")


def _same(current: ContentVersionRecord | None, served: Served) -> bool:
    return current is not None and current.digest == served.version


@dataclass(frozen=True)
class Served:
    pack: ContentPack
    index: AskIndex

    @property
    def version(self) -> str:
        return self.pack.version


class ContentState:
    def __init__(self, db: Database, *, semantic: bool, cache_dir: str | None = None) -> None:
        self.db = db
        self.semantic = semantic
        self.cache_dir = cache_dir
        self._current: Served | None = None
        self._lock = threading.Lock()  # one rebuild at a time

    @property
    def current(self) -> Served:
        served = self._current
        if served is None:
            raise RuntimeError("content is not loaded yet (the app has not started)")
        return served

    def load(self) -> Served:
        """Load what the database serves now (first load or after a change)."""
        return self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> Served:
        """Swap in the database's current content version if it differs from ours."""
        with self._lock:
            with self.db.session() as session:
                repo = ContentRepository(session)
                current = repo.current_version()
                old = self._current
                if not force and old is not None and _same(current, old):
                    return old
                pack = repo.served_pack()
            if old is not None and pack.version == old.version:
                return old
            served = Served(pack=pack, index=self._index(pack))
            self._current = served  # the atomic swap
            # Keep the new pack out of the collector's full passes too (see app.freeze_heap).
            gc.freeze()
            if old is not None:
                log.info("now serving content version %s (was %s)", pack.version, old.version)
                if self.semantic:  # embed the new version's documents before anyone asks
                    threading.Thread(target=self.warm, name="allguide-warm", daemon=True).start()
            return served

    def _index(self, pack: ContentPack) -> AskIndex:
        from pathlib import Path

        return AskIndex.for_pack(
            pack,
            semantic=self.semantic,
            cache_dir=Path(self.cache_dir) if self.cache_dir else None,
        )

    def warm(self) -> None:
        """Compute the index's document vectors now rather than on the first question."""
        try:
            self.current.index.warm()
        except Exception:  # semantic search degrades to lexical; never fatal
            log.exception("could not warm the ask index")
