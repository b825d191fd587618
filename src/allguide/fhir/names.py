"""Matching names and codes to content-pack items (drugs, genetics terms, routes).

Matching is exact after normalisation (case, spaces and punctuation ignored), never fuzzy:
a near miss is reported as "not used", because a wrong match is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from allguide.fhir.mapping import MappingTable
from allguide.fhir.resources import CodeableConcept
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Drug


def norm(text: str) -> str:
    """Same normalisation as the content pack's genetics index: letters and digits only."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def words_equal(text: str, options: Iterable[str]) -> bool:
    """Whole-text match ignoring case and repeated spaces ('Not  detected' = 'not detected')."""
    folded = " ".join(text.casefold().split())
    return any(folded == " ".join(o.casefold().split()) for o in options)


def mentions(texts: Iterable[str], names: Iterable[str]) -> bool:
    """True when any text contains any name as a whole word (case-insensitive)."""
    patterns = [
        re.compile(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", re.IGNORECASE) for n in names
    ]
    return any(p.search(t) for t in texts for p in patterns)


def _parts(text: str) -> list[str]:
    """The text, the text without a bracketed part, and each bracketed or listed part."""
    out = [text]
    stripped = re.sub(r"\s*[(\[][^)\]]*[)\]]\s*", " ", text).strip()
    if stripped and stripped != text:
        out.append(stripped)
    out += [p.strip() for p in re.split(r"[()\[\],;/]", text) if p.strip()]
    return out


def drug_index(pack: ContentPack) -> dict[str, frozenset[str]]:
    """Every normalised drug name (id, name, brand, alias) → the drug ids it may mean."""
    cached = _DRUG_INDEX.get(pack.version)
    if cached is None:
        index: dict[str, set[str]] = {}
        for drug in pack.drugs.values():
            for name in (drug.id, drug.name, *drug.brand_names, *drug.aliases):
                index.setdefault(norm(name), set()).add(drug.id)
        cached = {k: frozenset(v) for k, v in index.items()}
        _DRUG_INDEX[pack.version] = cached
    return cached


_DRUG_INDEX: dict[str, dict[str, frozenset[str]]] = {}


def drug_for(
    concept: CodeableConcept, pack: ContentPack, table: MappingTable
) -> tuple[Drug | None, str | None]:
    """Content drug named by a medication concept: a verified RxNorm code first, then an
    exact name. Returns (drug, None), or (None, why) when a name is ambiguous (e.g. 'PRED'
    is prednisone or prednisolone), or (None, None) when nothing matches."""
    rxnorm = table.url("rxnorm")
    for coding in concept.coding:
        if coding.system == rxnorm and coding.code:
            for med in table.medications:
                if med.code == coding.code and med.drug in pack.drugs:
                    return pack.drugs[med.drug], None
    index = drug_index(pack)
    for text in concept.words():
        for part in _parts(text):
            ids = index.get(norm(part))
            if ids is None:
                continue
            if len(ids) > 1:
                options = " or ".join(sorted(ids))
                return None, f"'{part}' is ambiguous: it could mean {options}"
            return pack.drugs[next(iter(ids))], None
    return None, None


# Words that may trail the name of a genetic finding in a lab's test name
# ("ETV6::RUNX1 fusion transcript", "BCR-ABL1 p190 by PCR") and can be dropped.
_FILLER = frozenset(
    {
        "fusion",
        "fusions",
        "transcript",
        "transcripts",
        "gene",
        "rearrangement",
        "translocation",
        "status",
        "result",
        "test",
        "by",
        "pcr",
        "rt-pcr",
        "fish",
        "qualitative",
        "quantitative",
        "p190",
        "p210",
        "presence",
        "analysis",
        "screen",
        "in",
        "blood",
        "bone",
        "marrow",
        "or",
        "tissue",
        "molecular",
        "genetics",
        "method",
    }
)


def finding_names(text: str) -> list[str]:
    """Candidate names for a genetic finding named in a lab's test or result text.

    In order: the text and its prefixes with trailing filler words dropped ("ETV6::RUNX1
    fusion transcript" → "ETV6::RUNX1"), the same without bracketed LOINC-style parts
    ("[Presence]"), ISCN translocations ("t(9;22)"), and fusion-like tokens ("BCR-ABL1").
    """
    bases = [text.strip()]
    no_brackets = re.sub(r"\s*\[[^\]]*\]", "", text).strip()
    if no_brackets and no_brackets != bases[0]:
        bases.append(no_brackets)
    out: list[str] = []
    for base in bases:
        words = base.split()
        while words:
            out.append(" ".join(words))
            if words[-1].casefold() not in _FILLER:
                break
            words = words[:-1]
    out += re.findall(r"t\(\d{1,2};\d{1,2}\)", text)
    out += [tok for tok in text.split() if "::" in tok or _FUSION_TOKEN.match(tok)]
    return list(dict.fromkeys(out))


_FUSION_TOKEN = re.compile(r"^[A-Z][A-Z0-9]*[-/][A-Z][A-Z0-9]*$")
