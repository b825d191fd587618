"""The search index over a content pack: BM25 with synonyms and spelling tolerance, and
sentence-embedding re-ranking.

Documents are the pack's statements, regimens and glossary entries (drugs name concepts
but are not answers: their notes are not written as stand-alone points). Terms are
light-stemmed words plus concept tokens ("@lumbar_puncture") from the language data and
from the drugs' own names, brands and aliases, so "spinal tap", "LP" and "lumbar puncture"
meet. Broader concepts are added to documents only: a text naming dexamethasone is about
"a steroid", but a question about dexamethasone is not about every steroid.

The sentence encoder scores the best lexical matches (`candidates`); their vectors are
computed on first need, kept in memory and, when the shell gives a cache directory, on
disk. `AskIndex.for_pack` caches one index per content version.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError
from rapidfuzz import fuzz, process

from allguide.ask.embed import DIMENSIONS, Embedder, EmbeddingUnavailable, Vectors
from allguide.ask.language import (
    Facets,
    FollowupKind,
    Language,
    Match,
    PhraseMatcher,
    Population,
    Scope,
    Token,
    common_words,
    language,
    normalise,
    stem,
)
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Applicability
from allguide.patient.model import PatientInput
from allguide.risk.population import population_of

log = logging.getLogger(__name__)

DocKind = Literal["statement", "regimen", "glossary"]
Scores = npt.NDArray[np.float64]
Vector = npt.NDArray[np.float32]

# BM25 parameters (standard values) — engineering parameters, not clinical numbers.
BM25_K1 = 1.2
BM25_B = 0.75
# Field weights: a word in a title or keyword list says more about a text than one in it.
TITLE_WEIGHT = 3
KEYWORD_WEIGHT = 2
# Spelling tolerance: similarity (0-100, rapidfuzz ratio) needed to correct a word not in
# the vocabulary; longer words tolerate more edits.
SPELL_MIN_LENGTH = 5
SPELL_CUTOFF_SHORT = 86.0  # 5-7 letters: about one edit
SPELL_CUTOFF_LONG = 80.0  # 8+ letters: about two edits
SPELL_MAX_LENGTH_CHANGE = 2  # a correction adds or drops at most two letters
# Concepts whose members are named in a drug's class ("corticosteroid", "tyrosine kinase
# inhibitor") become broader terms of that drug.
DRUG_CLASS_CONCEPTS = frozenset(
    {"steroid", "tki", "anthracycline", "asparaginase", "antimicrobial", "blinatumomab_class"}
)
# Query weights of a concept token and of each word of the phrase that named it.
# Concepts that only name the disease: they say what a question is about, not its topic.
ALL_NAMES = frozenset({"all", "leukemia"})
CONCEPT_WEIGHT = 0.75
CONCEPT_WORD_WEIGHT = 0.5
# Weight of a related concept added to a question ("initial treatment" -> induction).
RELATED_WEIGHT = 0.5
# "What is X?" counts as asking for a definition when X is at most this many words.
DEFINITION_MAX_WORDS = 3
# Semantic re-ranking looks at this many best lexical matches (see `candidates`).
SEMANTIC_CANDIDATES = 30
# Index cache: a few content versions at most (a server may hot-swap content).
_MAX_CACHED = 4
# Concept tokens of drugs (from content/drugs.yaml) start with this.
_DRUG = "@drug:"


@dataclass(frozen=True)
class Doc:
    kind: DocKind
    id: str
    topic: str
    populations: frozenset[str]
    ph: frozenset[str]
    lineages: frozenset[str]
    gist: str  # the short text that is embedded


@dataclass(frozen=True)
class Query:
    """What the index understood of a question."""

    text: str
    tokens: list[Token]
    scope: Scope
    terms: dict[str, float]
    concepts: set[str]
    facets: Facets
    facet_spans: frozenset[int]
    corrected: dict[str, str]
    content_words: int
    unknown_words: int  # topic words the content never uses ("weather", "landlord")
    strong_anchor: bool  # names something specific to ALL care
    weak_anchor: bool  # names something medical but general ("treated", "side effects")
    followup: FollowupKind | None
    topic_text: str = field(default="")
    search_text: str = field(default="")  # the question with spelling corrected
    definition: bool = False  # "what is X?" with a short X
    named_glossary: frozenset[str] = frozenset()  # glossary entries named in the question


class AskIndex:
    """Search over one content pack. Build with `AskIndex.for_pack(pack)`."""

    def __init__(
        self,
        pack: ContentPack,
        *,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.pack = pack
        self.version = pack.version
        self.lang: Language = language()
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._doc_vectors: dict[int, Vector] = {}
        self._cache_loaded = False
        self._semantic_error: str | None = None if embedder else "embeddings switched off"
        self._lock = threading.Lock()
        # Core-engine plans by patient input digest (answers with a patient reuse them).
        self.plans: dict[str, object] = {}

        self.concepts = self._concept_matcher()
        self.docs: list[Doc] = []
        fields: list[list[tuple[str, int]]] = []
        for doc, doc_fields in self._documents():
            self.docs.append(doc)
            fields.append(doc_fields)
        self.position = {(d.kind, d.id): i for i, d in enumerate(self.docs)}
        self._build_bm25(fields)
        self.anchor_words = self._anchor_words()
        self.glossary_names = self.lang.matcher()
        for g in pack.glossary.values():
            for name in (g.term, *g.aliases):
                self.glossary_names.add(name, g.id, exact=name.isupper() and len(name) <= 5)
        self.topic_names = sorted({d.topic for d in self.docs if d.kind == "statement"})

    # ------------------------------------------------------------------ cache

    _cache: ClassVar[dict[tuple[str, bool], AskIndex]] = {}
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def for_pack(
        cls,
        pack: ContentPack,
        *,
        semantic: bool = True,
        cache_dir: Path | None = None,
    ) -> AskIndex:
        """The index for this content version (built once, then shared).

        `semantic=False` gives lexical retrieval only. `cache_dir` (chosen by the shell)
        keeps document vectors on disk between processes.
        """
        key = (pack.version, semantic)
        with cls._cache_lock:
            index = cls._cache.get(key)
            if index is None:
                index = cls(pack, embedder=Embedder() if semantic else None, cache_dir=cache_dir)
                if len(cls._cache) >= _MAX_CACHED:
                    cls._cache.pop(next(iter(cls._cache)))
                cls._cache[key] = index
            return index

    # ------------------------------------------------------------------ documents

    def _concept_matcher(self) -> PhraseMatcher:
        matcher = self.lang.concepts
        combined = self.lang.matcher()
        combined.lower = {k: set(v) for k, v in matcher.lower.items()}
        combined.exact = {k: set(v) for k, v in matcher.exact.items()}
        combined.lower_starts = dict(matcher.lower_starts)
        combined.exact_starts = dict(matcher.exact_starts)
        combined.longest = matcher.longest
        self.broader: dict[str, set[str]] = {k: set(v) for k, v in self.lang.broader.items()}
        for drug in self.pack.drugs.values():
            label = f"drug:{drug.id}"
            for name in {drug.id, drug.name, *drug.brand_names, *drug.aliases}:
                # Short or upper-case names ("HC", "MP", "ino") collide with words: exact case.
                exact = len(name) <= 3 or (name.isupper() and len(name) <= 5)
                combined.add(name, label, exact=exact)
            class_concepts = {
                label
                for m in self.lang.concepts.find(self.lang.tokens(drug.drug_class))
                for label in m.labels
            }
            self.broader[label] = class_concepts & DRUG_CLASS_CONCEPTS
        return combined

    def _documents(self) -> Iterable[tuple[Doc, list[tuple[str, int]]]]:
        p = self.pack
        for s in p.statements.values():
            yield (
                _doc("statement", s.id, s.topic, s.applies_to, f"{s.title}. {s.plain_text}"),
                [
                    (s.title, TITLE_WEIGHT),
                    (" ; ".join(s.keywords), KEYWORD_WEIGHT),
                    (s.section, 1),
                    (s.clinician_text, 1),
                    (s.plain_text, 1),
                ],
            )
        for r in p.regimens.values():
            drugs = " ; ".join(sorted({line.drug for line in r.drugs}))
            yield (
                _doc("regimen", r.id, r.phases[0].value, r.applies_to, f"{r.name}. {r.plain_text}"),
                [
                    (r.name, TITLE_WEIGHT),
                    (drugs, 1),
                    (r.course or "", 1),
                    (r.summary, 1),
                    (r.plain_text, 1),
                ],
            )
        for g in p.glossary.values():
            yield (
                _doc("glossary", g.id, "glossary", None, f"{g.term}: {g.definition}"),
                [
                    (g.term, TITLE_WEIGHT),
                    (" ; ".join(g.aliases), KEYWORD_WEIGHT),
                    (g.definition, 1),
                ],
            )

    def doc_terms(self, text: str, tokens: list[Token] | None = None) -> Counter[str]:
        tokens = self.lang.tokens(text) if tokens is None else tokens
        terms: Counter[str] = Counter(self._word_terms(tokens))
        for m in self.concepts.find(tokens):
            named = set(m.labels)
            for label in m.labels:
                named |= self.broader.get(label, set())
            for label in named:
                terms["@" + label] += 1
        return terms

    def doc_drugs(self, doc: Doc) -> frozenset[str]:
        """Ids of the drugs a document names (by name, brand or alias)."""
        return self.item_drugs(doc.kind, doc.id)

    def item_drugs(self, kind: DocKind, item_id: str) -> frozenset[str]:
        pos = self.position.get((kind, item_id))
        return self._doc_drugs[pos] if pos is not None else frozenset()

    def drugs_named(self, text: str) -> frozenset[str]:
        """Ids of the drugs a text names."""
        return frozenset(t[len(_DRUG) :] for t in self.doc_terms(text) if t.startswith(_DRUG))

    def _word_terms(self, tokens: list[Token]) -> list[str]:
        return [stem(t.low) for t in tokens if not self.lang.is_stop(t.low)]

    def _build_bm25(self, fields: list[list[tuple[str, int]]]) -> None:
        doc_tf: list[Counter[str]] = []
        self.vocabulary: set[str] = set(self.lang.concepts.words())
        for doc_fields in fields:
            tf: Counter[str] = Counter()
            for text, weight in doc_fields:
                if not text:
                    continue
                tokens = self.lang.tokens(text)
                for term, count in self.doc_terms(text, tokens).items():
                    tf[term] += count * weight
                self.vocabulary.update(t.low for t in tokens)
            doc_tf.append(tf)
        self._doc_drugs = [
            frozenset(t[len(_DRUG) :] for t in tf if t.startswith(_DRUG)) for tf in doc_tf
        ]
        for matcher in (self.lang.population, self.lang.ph, self.lang.lineage):
            self.vocabulary |= matcher.words()
        self.vocabulary |= self.concepts.words()
        n = len(doc_tf)
        lengths = np.array([sum(tf.values()) for tf in doc_tf], dtype=np.float64)
        avg = float(lengths.mean()) if n else 1.0
        df: Counter[str] = Counter(term for tf in doc_tf for term in tf)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.max_idf = max(self.idf.values(), default=1.0)
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for i, tf in enumerate(doc_tf):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[i] / avg)
            for term, count in tf.items():
                idxs, weights = postings[term]
                idxs.append(i)
                weights.append(self.idf[term] * count * (BM25_K1 + 1) / (count + norm))
        self.postings = {
            t: (np.array(i, dtype=np.int64), np.array(w, dtype=np.float64))
            for t, (i, w) in postings.items()
        }
        self._spell_vocab = sorted(w for w in self.vocabulary if w.isalpha() and len(w) >= 4)

    def _anchor_words(self) -> frozenset[str]:
        """Technical words of the content's keywords and names: words that make a question
        one about ALL care. Everyday English words ("list", "morning") are left out."""
        common = common_words()
        words: set[str] = set()
        texts: list[str] = []
        for s in self.pack.statements.values():
            texts.extend(s.keywords)
        for g in self.pack.glossary.values():
            texts.extend([g.term, *g.aliases])
        for d in self.pack.drugs.values():
            texts.extend([d.name, *d.brand_names, *d.aliases])
        for r in self.pack.regimens.values():
            texts.append(r.name)
        for text in texts:
            for t in self.lang.tokens(text):
                w = t.low.rstrip("+")
                if len(w) < 3 or not any(c.isalpha() for c in w) or self.lang.is_stop(w):
                    continue
                if w in common or stem(w) in common:
                    continue
                words.add(stem(w))
        return frozenset(words - self.lang.weak_words)

    # ------------------------------------------------------------------ queries

    def correct(self, word: str) -> str | None:
        """The vocabulary word a misspelt word most likely means, or None."""
        if len(word) < SPELL_MIN_LENGTH or not word.isalpha() or word in self.vocabulary:
            return None
        if word in common_words():
            return None  # an everyday word ("translate") is not a misspelt term
        cutoff = SPELL_CUTOFF_LONG if len(word) >= 8 else SPELL_CUTOFF_SHORT
        best = process.extractOne(
            word,
            self._spell_vocab,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            processor=None,
        )
        if best is None or abs(len(str(best[0])) - len(word)) > SPELL_MAX_LENGTH_CHANGE:
            return None
        return str(best[0])

    def analyze(self, text: str) -> Query:
        lang = self.lang
        raw = lang.tokens(text)
        scope = lang.scope(raw)
        corrected: dict[str, str] = {}
        tokens: list[Token] = []
        for t in raw:
            fix = None if lang.is_stop(t.low) else self.correct(t.low)
            if fix:
                corrected[t.text] = fix
                tokens.append(Token(t.text, fix, t.start, t.end))
            else:
                tokens.append(t)
        matches: list[Match] = self.concepts.find(tokens)
        concepts = {label for m in matches for label in m.labels}
        topic = concepts - ALL_NAMES
        if len(topic) == 1 and (meant := lang.alone_means.get(next(iter(topic)))):
            concepts.add(meant)  # "How is ALL treated?" asks for the treatment overview
        finding = lang.facets(text, tokens, self.population_for_age)
        in_concept = {i for m in matches for i in range(m.start, m.end)}
        terms: dict[str, float] = defaultdict(float)
        for i, t in enumerate(tokens):
            w = stem(t.low)
            # A word the content never uses but a concept covers ("curable") is carried by
            # the concept token; counting it as unknown would look like an off-topic word.
            if lang.is_stop(t.low) or (i in in_concept and w not in self.idf):
                continue
            if i in finding.spans and not t.low.isalpha():
                continue  # "75" in "my mom is 75" set the facet; it is not a topic word
            # Words of a concept phrase share its weight with the concept token, so a
            # synonym-rich phrase does not outweigh a plain word ("PhALLCON trial").
            terms[w] += CONCEPT_WORD_WEIGHT if i in in_concept else 1.0
        for c in concepts:
            terms["@" + c] += CONCEPT_WEIGHT * lang.concept_weight.get(c, 1.0)
            for rel in lang.related.get(c, ()):
                if rel not in concepts:
                    terms["@" + rel] += RELATED_WEIGHT
        content_words = unknown_words = 0
        prefix_words = {w for p in lang.followup_prefixes for w in p}
        for i, t in enumerate(tokens):
            if i in finding.spans or lang.is_stop(t.low) or t.low in prefix_words:
                continue
            if i in in_concept or t.low in self.vocabulary:
                content_words += 1
            elif any(c.isalpha() for c in t.low):
                unknown_words += 1
        named = frozenset(label for m in self.glossary_names.find(tokens) for label in m.labels)
        signs = concepts - lang.filler_concepts
        strong = (
            any(c not in lang.weak_concepts for c in signs)
            or bool(named)
            or any(stem(t.low) in self.anchor_words for t in tokens if not lang.is_stop(t.low))
        )
        weak = bool(signs)
        topic_text = " ".join(t.text for i, t in enumerate(tokens) if i not in finding.spans)
        search_text = _apply_corrections(normalise(text), raw, corrected)
        return Query(
            text=text,
            tokens=tokens,
            scope=scope,
            terms=dict(terms),
            concepts=concepts,
            facets=finding.facets,
            facet_spans=finding.spans,
            corrected=corrected,
            content_words=content_words,
            unknown_words=unknown_words,
            strong_anchor=strong,
            weak_anchor=weak,
            followup=lang.followup_kind(raw, content_words),
            topic_text=topic_text,
            search_text=search_text,
            definition=lang.asks_definition(raw) and content_words <= DEFINITION_MAX_WORDS,
            named_glossary=named,
        )

    def population_for_age(self, age: Decimal) -> Population | None:
        try:
            return population_of(PatientInput.model_validate({"age_years": age}), self.pack)
        except (ValidationError, ValueError):
            return None

    def lexical_scores(self, terms: dict[str, float]) -> Scores:
        scores = np.zeros(len(self.docs), dtype=np.float64)
        for term, weight in terms.items():
            posting = self.postings.get(term)
            if posting is not None:
                scores[posting[0]] += weight * posting[1]
        return scores

    def coverage(self, terms: dict[str, float]) -> float:
        """Share (IDF-weighted) of the question's terms that the content knows at all."""
        total = known = 0.0
        for term, weight in terms.items():
            idf = self.idf.get(term)
            total += weight * (idf if idf is not None else self.max_idf)
            known += weight * (idf or 0.0)
        return known / total if total else 0.0

    # ------------------------------------------------------------------ semantic

    @property
    def semantic_enabled(self) -> bool:
        return self._embedder is not None and self._semantic_error is None

    @property
    def semantic_error(self) -> str | None:
        return self._semantic_error

    def warm(self) -> None:
        """Load the model and every document vector now (servers call this at start-up)."""
        self._vectors_for(list(range(len(self.docs))))

    def candidates(self, lexical: Scores) -> list[int]:
        """Documents the sentence encoder re-ranks: the best lexical matches.

        Only these are embedded, so a cold process answers in well under a second; a
        document with no word in common with the question is not a candidate.
        """
        order = np.argsort(-lexical, kind="stable")[:SEMANTIC_CANDIDATES]
        return [int(i) for i in order if lexical[i] > 0]

    def semantic_scores(self, text: str, candidates: list[int]) -> Scores | None:
        """Cosine similarity of the question with the candidates (0 elsewhere), or None
        when semantic matching is off."""
        if not self.semantic_enabled or self._embedder is None:
            return None
        vectors = self._vectors_for(candidates)
        if vectors is None:
            return None
        try:
            q = self._embedder.encode([text])[0]
        except EmbeddingUnavailable as exc:
            self._disable(str(exc))
            return None
        scores = np.zeros(len(self.docs), dtype=np.float64)
        if candidates:
            scores[candidates] = vectors @ q
        return scores

    def _disable(self, reason: str) -> None:
        self._semantic_error = reason
        log.warning("allguide ask: semantic matching off, using lexical only: %s", reason)

    def _vectors_for(self, positions: list[int]) -> Vectors | None:
        """Vectors of these documents (computed once, kept in memory and in the cache dir).

        The encoder gives the same vector for a text alone or in a batch, so vectors are
        the same whichever process or question computed them first.
        """
        if self._embedder is None or self._semantic_error is not None:
            return None
        with self._lock:
            if self._semantic_error is not None:
                return None
            try:
                self._embedder.load()
                if not self._cache_loaded:
                    self._cache_loaded = True
                    self._doc_vectors.update(_read_vectors(self._cache_path(), len(self.docs)))
                missing = [i for i in positions if i not in self._doc_vectors]
                if missing:
                    fresh = self._embedder.encode([self.docs[i].gist for i in missing])
                    self._doc_vectors.update(zip(missing, fresh, strict=True))
                    _write_vectors(self._cache_path(), self._doc_vectors, len(self.docs))
            except EmbeddingUnavailable as exc:
                self._disable(str(exc))
                return None
            if not positions:
                return np.zeros((0, DIMENSIONS), dtype=np.float32)
            return np.vstack([self._doc_vectors[i] for i in positions])

    def _cache_path(self) -> Path | None:
        """Keyed by content version, model and the embedded texts themselves."""
        if self._cache_dir is None or self._embedder is None:
            return None
        digest = hashlib.sha256("\x00".join(d.gist for d in self.docs).encode()).hexdigest()
        name = f"ask-vectors-{self.version}-{self._embedder.model_id}-{digest[:16]}.npz"
        return self._cache_dir / name


def _doc(kind: DocKind, item_id: str, topic: str, applies: Applicability | None, gist: str) -> Doc:
    return Doc(
        kind=kind,
        id=item_id,
        topic=topic,
        populations=frozenset(p.value for p in applies.populations) if applies else frozenset(),
        ph=frozenset(p.value for p in applies.ph_status) if applies else frozenset(),
        lineages=frozenset(x.value for x in applies.lineages) if applies else frozenset(),
        gist=gist,
    )


def _apply_corrections(text: str, tokens: list[Token], corrected: dict[str, str]) -> str:
    """The question with misspelt words replaced (for the sentence encoder)."""
    out = text
    for t in reversed(tokens):
        fix = corrected.get(t.text)
        if fix:
            out = out[: t.start] + fix + out[t.end :]
    return out


def _read_vectors(path: Path | None, rows: int) -> dict[int, Vector]:
    """Cached document vectors by position; an unreadable cache is an empty one."""
    if path is None or not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            positions, vectors = data["positions"], data["vectors"]
    except (OSError, ValueError, KeyError) as exc:
        log.warning("allguide ask: ignoring unreadable embedding cache %s: %s", path, exc)
        return {}
    if vectors.ndim != 2 or vectors.shape[1] != DIMENSIONS or len(positions) != len(vectors):
        return {}
    return {
        int(p): v.astype(np.float32) for p, v in zip(positions, vectors, strict=True) if p < rows
    }


def _write_vectors(path: Path | None, vectors: dict[int, Vector], rows: int) -> None:
    """Atomic write, merged with what another process may have written meanwhile; a cache
    that cannot be written is not an error."""
    if path is None:
        return
    merged = {**_read_vectors(path, rows), **vectors}
    positions = np.array(sorted(merged), dtype=np.int64)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh, positions=positions, vectors=np.vstack([merged[int(p)] for p in positions])
            )
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("allguide ask: cannot write embedding cache %s: %s", path, exc)
