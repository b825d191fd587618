"""Shared fixtures for the ask tests: one index per session (building it is the slow part).

Document vectors are kept in pytest's cache directory, so only the first run embeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allguide.ask import AskIndex
from allguide.knowledge.pack import ContentPack


def _vector_cache(request: pytest.FixtureRequest, tmp_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("allguide-ask-vectors"))
    return tmp_factory.mktemp("allguide-ask-vectors")


@pytest.fixture(scope="session")
def vector_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _vector_cache(request, tmp_path_factory)


@pytest.fixture(scope="session")
def index(pack: ContentPack, vector_cache: Path) -> AskIndex:
    """The hybrid (BM25 + embeddings) index the CLI and benchmark use."""
    idx = AskIndex.for_pack(pack, cache_dir=vector_cache)
    assert idx.semantic_enabled, idx.semantic_error  # the model ships with the package
    return idx


@pytest.fixture(scope="session")
def lexical_index(pack: ContentPack) -> AskIndex:
    return AskIndex.for_pack(pack, semantic=False)
