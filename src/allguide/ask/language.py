"""Question understanding: words, synonyms, facets and scope, driven by language data.

Everything here works on tokens: words with their original case (so "ALL" the disease and
"all" the word stay apart) and a lower-case, spelling-folded form used for matching. The
phrase lists live in `synonyms.yaml` (package data); no clinical fact or number is here.
Ages written as numbers are placed in a population with the content pack's thresholds.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

Population = Literal["infant", "child", "aya", "adult", "older_adult"]
PhFacet = Literal["positive", "negative"]
LineageFacet = Literal["B", "T"]
FollowupKind = Literal["why", "refine"]

# A question opening like a follow-up ("and in high-risk patients?") still continues the
# conversation when it adds at most this many topic words of its own.
FOLLOWUP_MAX_WORDS = 3

# A phrase still matches when up to this many numbers interrupt it ("still shows 30%
# blasts", "0.01" being two tokens).
MAX_SKIPPED_NUMBERS = 2

# A question of at least this many words, all in capitals, is shouted, not abbreviated.
SHOUTING_MIN_WORDS = 4

POPULATIONS: tuple[Population, ...] = ("infant", "child", "aya", "adult", "older_adult")

# Words: letters/digits, an optional inner apostrophe ("what's") and a trailing "+" ("Ph+").
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?\+?")
# "Ph +" and "Ph-"/"Ph−" written with a sign: fold to words before splitting.
_PH_PLUS = re.compile(r"\bph\s*\+", re.IGNORECASE)
_PH_MINUS = re.compile(r"\bph\s*[-−–](?![A-Za-z0-9])", re.IGNORECASE)
_PUNCT_FOLD = str.maketrans({"’": "'", "‘": "'", "`": "'", "−": "-", "–": "-", "—": "-"})

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "a": 1,
    "an": 1,
}
_NUM = r"\b(\d{1,3}(?:\.\d+)?|" + "|".join(_NUMBER_WORDS) + r")\b"
_YEARS = r"(?:years?|yrs?|y|yo)\b"
# "a 70-year-old", "5 yo", "18 months old", "aged 67", "age 3".
_AGE_YEARS = re.compile(_NUM + r"[\s-]*" + _YEARS + r"(?:[\s-]*(?:old|of age))?")
_AGE_MONTHS = re.compile(_NUM + r"[\s-]*(?:months?|mos?)\b[\s-]*(?:old|of age)")
_AGE_PLAIN = re.compile(r"\b(?:aged|age|age of)\s+" + _NUM)
# "patients over 60", "over 65 years", "children under 1 year": only with an age word
# nearby, so that "WBC over 50" is not read as an age.
_WHO = (
    r"(?:aged|age|patients?|people|persons?|adults?|children|kids?|someone|anyone|those|men|women)"
)
_AGE_OVER = re.compile(
    r"(?:\b" + _WHO + r"\s+(?:over|above|older than)\s+(?:the age of\s+)?" + _NUM + r")|"
    r"(?:\b(?:over|above|older than)\s+(?:the age of\s+)?" + _NUM + r"\s*" + _YEARS + r")"
)
# "our son is 16", "my mom is 75", "I'm 45", "she's 3": a person, then a bare number.
_PERSON = (
    r"(?:i|he|she|son|daughter|child|kid|baby|boy|girl|patient|husband|wife|partner|mother|"
    r"father|mom|mum|dad|brother|sister|grandmother|grandfather|grandma|grandpa|friend)"
)
_AGE_IS = re.compile(
    r"\b"
    + _PERSON
    + r"(?:'s|'m| is| am| was)\s+(?:only\s+|just\s+|now\s+)?"
    + _NUM
    + r"(?!\s*(?:%|mg|kg|cm|lb|days?|weeks?|months?|times?|doses?|drugs?))"
)
_AGE_UNDER = re.compile(
    r"(?:\b" + _WHO + r"\s+(?:under|below|younger than)\s+(?:the age of\s+)?" + _NUM + r")|"
    r"(?:\b(?:under|below|younger than)\s+(?:the age of\s+)?" + _NUM + r"\s*" + _YEARS + r")"
)


@dataclass(frozen=True)
class Token:
    text: str  # as written
    low: str  # lower case, spelling folded
    start: int
    end: int


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT_FOLD)
    text = _PH_PLUS.sub(" Ph+ ", text)
    return _PH_MINUS.sub(" Ph negative ", text)


def tokenize(text: str, spellings: Mapping[str, str] | None = None) -> list[Token]:
    text = normalise(text)
    fold = spellings or {}
    out = []
    for m in _WORD.finditer(text):
        low = m.group().lower()
        out.append(Token(m.group(), fold.get(low, low), m.start(), m.end()))
    return out


def stem(word: str) -> str:
    """A deliberately light stemmer: plural forms only ("relapses" -> "relapse")."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "os", "as")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Match:
    start: int  # token index
    end: int  # exclusive
    labels: frozenset[str]


@dataclass
class PhraseMatcher:
    """Longest-first, non-overlapping matching of phrases over tokens.

    Phrases are tokenized like questions, so "Ph-positive" and "ph positive" are one
    phrase. `exact` phrases match only with the case written ("ALL", "IT").
    """

    spellings: Mapping[str, str] = field(default_factory=dict)
    lower: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    exact: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    lower_starts: dict[str, int] = field(default_factory=dict)  # first word -> longest phrase
    exact_starts: dict[str, int] = field(default_factory=dict)
    longest: int = 1

    def add(self, phrase: str, label: str, *, exact: bool = False) -> None:
        toks = tokenize(phrase, self.spellings)
        if not toks:
            return
        key = tuple(t.text for t in toks) if exact else tuple(t.low for t in toks)
        (self.exact if exact else self.lower).setdefault(key, set()).add(label)
        starts = self.exact_starts if exact else self.lower_starts
        starts[key[0]] = max(starts.get(key[0], 0), len(key))
        self.longest = max(self.longest, len(key))

    def find(self, tokens: list[Token], skip: set[int] | None = None) -> list[Match]:
        found: list[Match] = []
        i = 0
        n = len(tokens)
        while i < n:
            # Only phrases starting with this word can match here (keeps indexing fast).
            reach = max(
                self.lower_starts.get(tokens[i].low, 0), self.exact_starts.get(tokens[i].text, 0)
            )
            hit: Match | None = None
            for size in range(min(reach, n - i), 0, -1):
                if skip and any(j in skip for j in range(i, i + size)):
                    continue
                hit = self._match(tokens[i : i + size], i, i + size)
                if hit:
                    break
            if hit is None and reach > 1 and not _numeric(tokens[i].low):
                hit = self._match_over_numbers(tokens, i, reach, skip)
            if hit:
                found.append(hit)
                i = hit.end
            else:
                i += 1
        return found

    def _match(self, window: list[Token], start: int, end: int) -> Match | None:
        labels = self.exact.get(tuple(t.text for t in window), set()) | self.lower.get(
            tuple(t.low for t in window), set()
        )
        return Match(start, end, frozenset(labels)) if labels else None

    def _match_over_numbers(
        self, tokens: list[Token], i: int, reach: int, skip: set[int] | None
    ) -> Match | None:
        """A phrase whose words are interrupted by numbers: "still shows 30% blasts" is
        "still shows blasts". Only numbers are passed over, at most `MAX_SKIPPED_NUMBERS`."""
        kept: list[int] = []
        j = i
        while j < len(tokens) and len(kept) < reach and j - i - len(kept) <= MAX_SKIPPED_NUMBERS:
            if not _numeric(tokens[j].low):
                kept.append(j)
            j += 1
        for size in range(len(kept), 1, -1):
            end = kept[size - 1] + 1
            if end - i == size or (skip and any(k in skip for k in range(i, end))):
                continue  # no number passed over (tried already), or overlaps a skipped span
            hit = self._match([tokens[k] for k in kept[:size]], i, end)
            if hit:
                return hit
        return None

    def words(self) -> set[str]:
        return {w for key in self.lower for w in key}


def _numeric(low: str) -> bool:
    return low.replace(".", "").isdigit()


@dataclass(frozen=True)
class Facets:
    """Who a question is about (None = not said)."""

    population: Population | None = None
    ph_status: PhFacet | None = None
    lineage: LineageFacet | None = None
    # A second group the question is also about: a 16-year-old is a child by the content's
    # age thresholds, and a teenager (adolescent) in everyday words.
    also_population: Population | None = None

    def merged_over(self, base: Facets) -> Facets:
        """These facets where given, `base` elsewhere."""
        return Facets(
            population=self.population or base.population,
            ph_status=self.ph_status or base.ph_status,
            lineage=self.lineage or base.lineage,
            also_population=self.also_population if self.population else base.also_population,
        )

    def is_empty(self) -> bool:
        return not (self.population or self.ph_status or self.lineage)


@dataclass(frozen=True)
class FacetFinding:
    facets: Facets
    spans: frozenset[int]  # token indexes that only say who (removed from the topic)
    age_years: Decimal | None = None


@dataclass(frozen=True)
class Scope:
    other_condition: str | None  # name of another disease the question is about
    mentions_all: bool


class Language:
    """The language data, compiled once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.spellings: dict[str, str] = {str(k): str(v) for k, v in data["spellings"].items()}
        self.stopwords: frozenset[str] = frozenset(str(w).lower() for w in data["stopwords"])
        self.weak_words: frozenset[str] = frozenset(
            stem(t.low) for w in data["weak_domain_words"] for t in self._tok(str(w))
        )
        self.weak_concepts: frozenset[str] = frozenset(data["weak_concepts"])
        self.filler_concepts: frozenset[str] = frozenset(data["filler_concepts"])
        self.alone_means: dict[str, str] = {
            str(k): str(v) for k, v in data.get("alone_means", {}).items()
        }
        self.concepts = self.matcher()
        self.broader: dict[str, set[str]] = {}
        self.related: dict[str, set[str]] = {}
        # Query weight of a concept relative to others (default 1): a word that says what
        # kind of answer is wanted ("so many" taps: why it is repeated) may weigh more.
        self.concept_weight: dict[str, float] = {}
        for cid, spec in data["concepts"].items():
            for phrase in spec.get("phrases", []):
                self.concepts.add(str(phrase), cid)
            for phrase in spec.get("exact", []):
                self.concepts.add(str(phrase), cid, exact=True)
            if spec.get("broader"):
                self.broader[cid] = set(spec["broader"])
            if spec.get("related"):
                self.related[cid] = set(spec["related"])
            if "weight" in spec:
                self.concept_weight[cid] = float(spec["weight"])
        self.concept_ids: frozenset[str] = frozenset(data["concepts"])

        self.population = self.matcher()
        for pop, phrases in data["facets"]["population"].items():
            for phrase in phrases:
                self.population.add(str(phrase), pop)
        self.ph = self.matcher()
        for status, phrases in data["facets"]["ph_status"].items():
            for phrase in phrases:
                self.ph.add(str(phrase), status)
        # Ages whose number word ends in "-teen": the question is about a teenager, whatever
        # group the content's thresholds put that age in (language, not a clinical cut-off).
        low, high = (Decimal(str(x)) for x in data["facets"]["teen_ages"])
        self.teen_ages = (low, high)
        teen = self.population.find(self._tok("teenager"))
        self.teen_population: str | None = next(iter(teen[0].labels)) if teen else None
        self.lineage = self.matcher()
        for lin, phrases in data["facets"]["lineage"].items():
            for phrase in phrases:
                self.lineage.add(str(phrase), lin)
        for lin, phrases in data["facets"]["lineage_exact"].items():
            for phrase in phrases:
                self.lineage.add(str(phrase), lin, exact=True)

        self.other = self.matcher()
        for cond in data["other_conditions"]:
            for phrase in cond.get("phrases", []):
                self.other.add(str(phrase), cond["name"])
            for phrase in cond.get("exact", []):
                self.other.add(str(phrase), cond["name"], exact=True)
        self.anchors = self.matcher()
        for phrase in data["all_anchors"]["phrases"]:
            self.anchors.add(str(phrase), "all")
        for phrase in data["all_anchors"]["exact"]:
            self.anchors.add(str(phrase), "all", exact=True)

        self.followup_prefixes = sorted(
            (tuple(t.low for t in self._tok(str(p))) for p in data["followups"]["prefixes"]),
            key=len,
            reverse=True,
        )
        self.definition_prefixes = [
            tuple(t.low for t in self._tok(str(p))) for p in data["definition_prefixes"]
        ]
        self.definition_suffixes = [
            tuple(t.low for t in self._tok(str(p))) for p in data["definition_suffixes"]
        ]
        self.why_phrases = {
            tuple(t.low for t in self._tok(str(p))) for p in data["followups"]["why"]
        }

    def _tok(self, text: str) -> list[Token]:
        return tokenize(text, self.spellings)

    def matcher(self) -> PhraseMatcher:
        return PhraseMatcher(spellings=self.spellings)

    def tokens(self, text: str) -> list[Token]:
        tokens = self._tok(text)
        if _shouting(tokens):
            # In an all-capitals question "ALL" is just "all": case says nothing.
            tokens = [Token(t.low, t.low, t.start, t.end) for t in tokens]
        return tokens

    def is_stop(self, low: str) -> bool:
        return low in self.stopwords

    # ------------------------------------------------------------------ scope

    def scope(self, tokens: list[Token]) -> Scope:
        """Another disease named (and ALL not named) means the question is out of scope."""
        other = self.other.find(tokens)
        covered = {i for m in other for i in range(m.start, m.end)}
        mentions_all = bool(self.anchors.find(tokens, skip=covered))
        name = sorted(other[0].labels)[0] if other else None
        return Scope(other_condition=name, mentions_all=mentions_all)

    # ------------------------------------------------------------------ facets

    def facets(self, text: str, tokens: list[Token], age_to_population: AgeMapper) -> FacetFinding:
        spans: set[int] = set()

        def pick(matches: list[Match]) -> str | None:
            labels = {label for m in matches for label in m.labels}
            for m in matches:
                spans.update(range(m.start, m.end))
            return next(iter(labels)) if len(labels) == 1 else None

        population = pick(self.population.find(tokens))
        ph = pick(self.ph.find(tokens))
        lineage = pick(self.lineage.find(tokens))
        age = question_age(text)
        also: str | None = None
        if age is not None:
            by_age = age_to_population(age)
            if by_age is not None:
                population = by_age
                spans.update(i for i, t in enumerate(tokens) if _is_age_word(t.low))
                low, high = self.teen_ages
                if low <= age < high + 1 and self.teen_population != by_age:
                    also = self.teen_population
        return FacetFinding(
            Facets(
                population=population if population in POPULATIONS else None,
                ph_status=ph if ph in ("positive", "negative") else None,  # type: ignore[arg-type]
                lineage=lineage if lineage in ("B", "T") else None,  # type: ignore[arg-type]
                also_population=also if also in POPULATIONS else None,
            ),
            frozenset(spans),
            age,
        )

    # ------------------------------------------------------------------ follow-ups

    def asks_definition(self, tokens: list[Token]) -> bool:
        lows = tuple(t.low for t in tokens)
        return any(lows[: len(p)] == p for p in self.definition_prefixes) or any(
            lows[-len(p) :] == p for p in self.definition_suffixes
        )

    def followup_kind(self, tokens: list[Token], content_words: int) -> FollowupKind | None:
        """ "why?" asks about the previous answer; "what about X?" re-asks it for X."""
        lows = tuple(t.low for t in tokens)
        if not lows:
            return None
        if lows in self.why_phrases or (lows[0] == "why" and content_words == 0):
            return "why"
        for prefix in self.followup_prefixes:
            if lows[: len(prefix)] == prefix and content_words <= FOLLOWUP_MAX_WORDS:
                return "refine"
        if self.asks_definition(tokens):
            return None  # "What is the Philadelphia chromosome?" is a question of its own
        return "refine" if content_words == 0 else None


AgeMapper = Callable[[Decimal], Population | None]


def _shouting(tokens: list[Token]) -> bool:
    words = [t.text for t in tokens if t.text.isalpha() and len(t.text) > 1]
    return len(words) >= SHOUTING_MIN_WORDS and all(w.isupper() for w in words)


def _is_age_word(low: str) -> bool:
    return (
        low.replace(".", "").isdigit()
        or low in _NUMBER_WORDS
        or low
        in {
            "year",
            "years",
            "yr",
            "yrs",
            "y",
            "yo",
            "old",
            "month",
            "months",
            "aged",
            "age",
            "over",
            "under",
        }
    )


def _number(text: str) -> Decimal | None:
    text = text.lower()
    if text in _NUMBER_WORDS:
        return Decimal(_NUMBER_WORDS[text])
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


# "over 60" is read as a little above 60, "under 1 year" as a little below 1, so the
# content thresholds (which compare with < and >=) place them on the intended side.
_EDGE = Decimal("0.5")


def question_age(text: str) -> Decimal | None:
    """An age written in the question, in years, or None."""
    low = normalise(text).lower()
    if m := _AGE_MONTHS.search(low):
        months = _number(m.group(1))
        return months / 12 if months is not None else None
    if m := _AGE_OVER.search(low):
        value = _number(m.group(1) or m.group(2))
        return value + _EDGE if value is not None else None
    if m := _AGE_UNDER.search(low):
        value = _number(m.group(1) or m.group(2))
        return max(Decimal(0), value - _EDGE) if value is not None else None
    for pattern in (_AGE_YEARS, _AGE_PLAIN, _AGE_IS):
        if m := pattern.search(low):
            return _number(m.group(1))
    return None


@cache
def common_words() -> frozenset[str]:
    """Everyday English words: the whole words of the sentence encoder's WordPiece vocabulary
    (about 20,000, from web text). A content word outside it ("asparaginase", "intrathecal")
    is technical enough to show that a question is about ALL care; "list" or "morning" is not.
    """
    raw = resources.files("allguide.ask").joinpath("data/tokenizer.json").read_text("utf-8")
    vocab = json.loads(raw)["model"]["vocab"]
    return frozenset(w for w in vocab if w.isalpha())


@cache
def language() -> Language:
    """The packaged language data (`synonyms.yaml`), loaded once per process."""
    text = resources.files("allguide.ask").joinpath("synonyms.yaml").read_text(encoding="utf-8")
    return Language(yaml.safe_load(text))
