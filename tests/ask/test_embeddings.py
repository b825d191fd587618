"""The sentence encoder: verified model, stable vectors, disk cache, lexical fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from allguide.ask import AskIndex, answer_question
from allguide.ask.embed import Embedder, EmbeddingUnavailable, default_model_path
from allguide.knowledge.pack import ContentPack


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    e = Embedder()
    e.load()
    return e


def test_vectors_are_unit_length_and_meaningful(embedder: Embedder) -> None:
    v = embedder.encode(["spinal tap", "lumbar puncture", "weather forecast for Boston"])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])


def test_a_text_gets_the_same_vector_alone_or_in_a_batch(embedder: Embedder) -> None:
    # Cached document vectors are shared between processes that computed different batches.
    texts = ["Dexamethasone lowers CNS relapse.", "short", "Blinatumomab for MRD-positive B-ALL."]
    together = embedder.encode(texts)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-6)


def test_a_model_file_with_the_wrong_checksum_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(default_model_path().read_bytes()[:1000])
    with pytest.raises(EmbeddingUnavailable, match="SHA-256"):
        Embedder(fake).load()
    with pytest.raises(EmbeddingUnavailable, match="not found"):
        Embedder(tmp_path / "missing.onnx").load()


def test_without_the_model_answers_fall_back_to_keywords(
    pack: ContentPack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not a model")
    index = AskIndex(pack, embedder=Embedder(broken))
    answer = answer_question("Why dexamethasone rather than prednisone?", pack, index=index)
    assert answer.in_scope
    assert answer.retrieval.mode == "lexical"
    assert answer.retrieval.note and "semantic matching off" in answer.retrieval.note
    assert "semantic matching off" in caplog.text
    assert not index.semantic_enabled


def test_document_vectors_are_cached_on_disk(pack: ContentPack, tmp_path: Path) -> None:
    first = AskIndex(pack, embedder=Embedder(), cache_dir=tmp_path)
    answer = answer_question("What is MRD?", pack, index=first)
    files = list(tmp_path.glob("ask-vectors-*.npz"))
    assert len(files) == 1
    assert pack.version in files[0].name

    # A new process (a new index) reads the documents' vectors: only the question is embedded.
    second = AskIndex(pack, embedder=Embedder(), cache_dir=tmp_path)
    batches: list[int] = []
    encoder = second._embedder
    assert encoder is not None
    real = encoder.encode

    def counting(texts: list[str]) -> object:
        batches.append(len(texts))
        return real(texts)

    encoder.encode = counting  # type: ignore[method-assign,assignment]
    again = answer_question("What is MRD?", pack, index=second)
    assert batches == [1]
    assert again.model_dump_json() == answer.model_dump_json()
