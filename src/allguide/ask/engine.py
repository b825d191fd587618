"""Answer a question about ALL from content only: retrieve, rank, cite, or decline.

Pure: no clock, no network, no files (except the optional embedding cache directory the
caller chooses). The same question, content version, audience, patient and conversation
give the same answer.

Ranking fuses BM25 (with synonyms and spelling tolerance) and sentence-embedding
similarity, then weighs each item by who the question is about (facets from the question,
the conversation or the patient) and, with a patient, by whether the core engine's plan
uses it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from allguide.ask.compose import Composer, Item, item_text, lookup, opening
from allguide.ask.followups import (
    DEFAULT_TOPICS,
    FOR_THIS_PATIENT,
    NEXT_POPULATION,
    PATIENT_DISCLAIMER,
    WHERE_SOURCES_DIFFER,
    heading,
    population_question,
    refusal_message,
    topic_question,
)
from allguide.ask.index import AskIndex, Doc, Query, Scores
from allguide.ask.language import POPULATIONS, Facets
from allguide.ask.models import (
    AUDIENCES,
    Answer,
    Audience,
    Conversation,
    FacetsOut,
    PatientAlert,
    Point,
    RefusalReason,
    Retrieval,
    Section,
    Turn,
)
from allguide.ask.patient_plan import PlanView, plan_view
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Statement
from allguide.patient.model import PatientInput
from allguide.planning.engine import DISCLAIMER, build_plan, input_digest
from allguide.planning.plan import Plan

MAX_QUESTION_CHARS = 2000  # a long clinical vignette fits; an essay does not
MAX_TURNS = 20  # conversation turns kept; older ones are dropped

# --- ranking and confidence: engineering parameters, tuned on benchmarks/ask_questions.yaml
W_LEXICAL = 0.6  # weight of normalised BM25 in the fused score
W_SEMANTIC = 0.4  # weight of normalised cosine similarity
SEM_FLOOR = 0.15  # cosine below this is treated as no similarity at all
# Cosine similarity that counts as a full semantic match. When even the best candidate is
# less similar than this, the encoder is unsure and its differences count for less.
SEM_FULL = 0.6
# Kind priors: statements are the reviewed answers; definitions and regimens support them.
PRIOR = {
    "clinician": {"statement": 1.0, "regimen": 0.8, "glossary": 0.55},
    "patient": {"statement": 1.0, "regimen": 0.8, "glossary": 0.85},
}
# "What is X?": a definition answers first, above all that of the term asked about.
DEFINITION_PRIOR = {"glossary": 1.1}
NAMED_DEFINITION_BOOST = 1.5
# Statements written to explain automated order checks restate clinical statements that
# answer questions better.
TOPIC_PRIOR = {"order_safety": 0.7}
FACET_MATCH = 1.3  # item written for the group asked about
FACET_MISMATCH = 0.35  # item written only for other groups
# ...but a neighbouring age group partly applies (a 16-year-old and AYA regimens).
FACET_ADJACENT = 0.7
# The question itself names the age group: items for that group lead, general ones follow.
ASKED_POPULATION_MATCH = 1.6
ASKED_POPULATION_GENERAL = 0.85
# Item only for a minority subgroup (T-ALL, Ph+) the question did not mention.
UNASKED_SUBGROUP = 0.85
PATIENT_BOOST = 1.5  # item the core engine's plan uses for this patient
# A follow-up that only changes who it is about keeps the previous answer's topic.
SAME_TOPIC_BOOST = 1.6
RELATIVE_CUTOFF = 0.5  # keep items scoring at least this share of the best
MAX_POINTS = {"clinician": 6, "patient": 5}
# At most this many points of a kind: definitions and regimens support the statements.
MAX_PER_KIND = {"regimen": 2, "glossary": 2}
MAX_PATIENT_POINTS = 3
# Statements of the plan's alerts that lead an answer (before its other patient points).
MAX_ALERT_POINTS = 2
# Declining: too little of the question is known to the content, or nothing matches.
MIN_COVERAGE = 0.45  # IDF-weighted share of question terms found in the content
SEM_CONFIDENT = 0.55  # ...unless the best cosine similarity is at least this
# A general question ("How should he be treated?") with a facet or patient is about ALL
# unless it also uses this many words the content never uses.
WEAK_MAX_UNKNOWN = 2
MIN_LEXICAL = 1.0  # best raw BM25 score needed when semantic matching is off or weak
# With semantic matching on, the best candidate must be at least this similar in meaning
# (answered benchmark questions score 0.30 or more; content gaps such as symptoms 0.23).
SEM_MIN_RELEVANT = 0.26

# Plan phases a topic belongs to (for the patient's preferred regimen).
_TOPIC_PHASE = {
    "overview": "induction",
    "induction": "induction",
    "ph": "induction",
    "prephase": "prephase",
    "consolidation": "consolidation",
    "maintenance": "maintenance",
    "supportive": "supportive",
}
_PHASE_TOPIC = {"induction": "induction", "cns": "cns", "transplant": "transplant"}


class AskInputError(ValueError):
    """The question or options cannot be used; the message says why."""


@dataclass(frozen=True)
class _Resolved:
    text: str  # what is searched
    topic_query: str  # stored for later follow-ups (no facet words)
    facets: Facets
    sources: dict[str, str]
    followup: str | None
    # A follow-up that only changes who ("what about in adults?") stays on the previous
    # answer's content topic.
    keep_topic: str | None = None


def answer_question(
    question: str,
    pack: ContentPack,
    *,
    audience: Audience = "clinician",
    patient: PatientInput | None = None,
    conversation: Conversation | None = None,
    index: AskIndex | None = None,
) -> Answer:
    """Answer from content, every point cited; or decline with `in_scope: false`."""
    text = " ".join(question.split())
    if not text:
        raise AskInputError("question is empty; ask something about ALL")
    if len(text) > MAX_QUESTION_CHARS:
        raise AskInputError(
            f"question is {len(text)} characters; keep it under {MAX_QUESTION_CHARS}"
        )
    if audience not in AUDIENCES:
        raise AskInputError(f"audience '{audience}' is not one of: {', '.join(AUDIENCES)}")
    index = index or AskIndex.for_pack(pack)
    if index.version != pack.version:
        raise AskInputError("the search index was built for another content version")
    if conversation is None:
        conversation = Conversation(id=_local_conversation_id(text, audience, pack.version))
    return _Asker(text, pack, audience, patient, conversation, index).run()


def _local_conversation_id(question: str, audience: str, version: str) -> str:
    """Id of a conversation the caller did not start. The core has no randomness, so it is
    derived from the first question; shells that store conversations create their own
    (uuid4) ids and pass the Conversation in."""
    digest = hashlib.sha256(f"{version}\0{audience}\0{question}".encode()).hexdigest()
    return f"local-{digest[:24]}"


class _Asker:
    def __init__(
        self,
        question: str,
        pack: ContentPack,
        audience: Audience,
        patient: PatientInput | None,
        conversation: Conversation | None,
        index: AskIndex,
    ) -> None:
        self.question = question
        self.pack = pack
        self.audience = audience
        self.patient = patient
        self.conversation = conversation
        self.index = index
        self.query = index.analyze(question)
        self.plan: Plan | None = _plan_for(patient, pack, index) if patient else None
        self.view: PlanView | None = (
            _view_for(self.plan, patient, pack, index) if self.plan and patient else None
        )
        self.next_topics: list[str] = []  # topics of the items ranked after the answer's

    # ------------------------------------------------------------------ flow

    def run(self) -> Answer:
        q = self.query
        previous = self.conversation.last_in_scope() if self.conversation else None
        if q.scope.other_condition and not q.scope.mentions_all:
            return self.decline("other_condition", q.scope.other_condition)
        followup = q.followup if previous else None
        if previous and not followup and not q.strong_anchor and not q.unknown_words:
            followup = "refine"  # no topic of its own ("How long does it last?"): inherit it
        if followup and q.unknown_words and not q.strong_anchor:
            return self.decline("not_about_all")  # "what about the weather?"
        # A general medical question ("What are the treatment options?") is about ALL when it
        # says who it is about, or comes with a patient.
        about_all = q.strong_anchor or (
            q.weak_anchor
            and q.unknown_words <= WEAK_MAX_UNKNOWN
            and (not q.facets.is_empty() or self.plan is not None)
        )
        if not followup and not about_all:
            return self.decline("not_about_all")
        resolved = self.resolve(previous if followup else None, followup)
        search = self.index.analyze(resolved.text) if followup else q
        lexical = self.index.lexical_scores(search.terms)
        semantic = self.index.semantic_scores(
            search.search_text or resolved.text, self.index.candidates(lexical)
        )
        if not self.confident(search, lexical, semantic):
            return self.decline("not_found")
        ranked = self.rank(lexical, semantic, resolved.facets, search, resolved.keep_topic)
        if not ranked:
            return self.decline("not_found")
        return self.compose(ranked, resolved, search)

    def resolve(self, previous: Turn | None, followup: str | None) -> _Resolved:
        q = self.query
        base = Facets()
        sources: dict[str, str] = {}
        if self.plan is not None:
            base = _plan_facets(self.plan, self.patient)
            sources = {k: "patient" for k in _facet_names(base)}
        if previous is not None:
            prev = Facets(
                population=previous.facets.population,
                ph_status=previous.facets.ph_status,
                lineage=previous.facets.lineage,
            )
            for k in _facet_names(prev):
                sources[k] = "conversation"
            base = prev.merged_over(base)
        for k in _facet_names(q.facets):
            sources[k] = "question"
        facets = q.facets.merged_over(base)
        sources = {k: v for k, v in sources.items() if k in _facet_names(facets)}
        if previous is None or followup is None:
            return _Resolved(q.text, q.topic_text, facets, sources, None)
        if followup == "why":
            return _Resolved(previous.topic_query, previous.topic_query, facets, sources, "why")
        own = _without_prefix(q, self.index)
        topic_query = f"{previous.topic_query} {own.topic}".strip()
        keep = previous.topic if q.content_words == 0 else None
        return _Resolved(
            f"{previous.topic_query} {own.full}".strip(),
            topic_query,
            facets,
            sources,
            "refine",
            keep_topic=keep,
        )

    def confident(self, q: Query, lexical: Scores, semantic: Scores | None) -> bool:
        best_lex = float(lexical.max()) if lexical.size else 0.0
        best_sem = float(semantic.max()) if semantic is not None and semantic.size else 0.0
        if best_lex < MIN_LEXICAL and best_sem < SEM_CONFIDENT:
            return False
        if semantic is not None and best_sem < SEM_MIN_RELEVANT:
            return False  # words in common, meaning not ("What are the symptoms of ALL?")
        return self.index.coverage(q.terms) >= MIN_COVERAGE or best_sem >= SEM_CONFIDENT

    # ------------------------------------------------------------------ ranking

    def rank(
        self,
        lexical: Scores,
        semantic: Scores | None,
        facets: Facets,
        search: Query,
        keep_topic: str | None = None,
    ) -> list[int]:
        docs = self.index.docs
        top_lex = float(lexical.max())
        fused = lexical / top_lex if top_lex > 0 else np.zeros_like(lexical)
        if semantic is not None:
            top_sem = float(semantic.max())
            span = max(max(top_sem, SEM_FULL) - SEM_FLOOR, 1e-6)
            sem = np.clip((semantic - SEM_FLOOR) / span, 0.0, 1.0)
            fused = W_LEXICAL * fused + W_SEMANTIC * sem
        asked_population = self.query.facets.population is not None
        priors = dict(PRIOR[self.audience])
        named: frozenset[str] = frozenset()
        if search.definition:
            priors.update(DEFINITION_PRIOR)
            named = search.named_glossary
        plan_ids = self.plan_ids()
        weights = np.array(
            [
                priors[d.kind]
                * TOPIC_PRIOR.get(d.topic, 1.0)
                * (NAMED_DEFINITION_BOOST if d.id in named else 1.0)
                * _facet_weight(d, facets, asked_population=asked_population)
                * (PATIENT_BOOST if d.id in plan_ids else 1.0)
                * (SAME_TOPIC_BOOST if keep_topic and d.topic == keep_topic else 1.0)
                for d in docs
            ]
        )
        final = fused * weights
        order = [int(i) for i in np.argsort(-final, kind="stable")]
        best = float(final[order[0]]) if order else 0.0
        if best <= 0:
            return []
        keep: list[int] = []
        per_kind: dict[str, int] = {}
        for i in order:
            if final[i] < RELATIVE_CUTOFF * best or len(keep) >= MAX_POINTS[self.audience]:
                break
            kind = docs[i].kind
            if per_kind.get(kind, 0) >= MAX_PER_KIND.get(kind, MAX_POINTS[self.audience]):
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            keep.append(i)
        self.next_topics = [
            docs[i].topic
            for i in order[: 4 * MAX_POINTS[self.audience]]
            if docs[i].kind == "statement"
        ]
        return keep

    def plan_ids(self) -> frozenset[str]:
        """Items the plan uses for this patient (never one giving what it rules out)."""
        return self.view.uses if self.view else frozenset()

    # ------------------------------------------------------------------ answer

    def compose(self, ranked: list[int], resolved: _Resolved, search: Query) -> Answer:
        docs = self.index.docs
        composer = Composer(self.pack, self.audience)
        plan_ids = self.plan_ids()
        chosen: list[Doc] = [docs[i] for i in ranked]
        topic = _answer_topic(chosen)

        # The plan leads: its alerts that bear on the answer first (their statements), then
        # the items it uses; items giving what it rules out are only general guidance.
        alerts = self.view.relevant_alerts(chosen, self.index) if self.view else []
        lead = self.view.lead_items(alerts) if self.view else []
        alert_docs = [
            docs[pos]
            for sid in lead
            if (pos := self.index.position.get(("statement", sid))) is not None
        ][:MAX_ALERT_POINTS]
        lead_ids = {d.id for d in alert_docs}
        not_for = self.view.not_for_patient if self.view else frozenset()
        patient_docs = [
            d for d in chosen if d.id in plan_ids and d.id not in not_for and d not in alert_docs
        ][:MAX_PATIENT_POINTS]
        preferred = self.preferred_regimen(topic)
        if preferred and all(d.id != preferred for d in chosen):
            pos = self.index.position.get(("regimen", preferred))
            if pos is not None:
                patient_docs.insert(min(1, len(patient_docs)), docs[pos])
        patient_docs = alert_docs + patient_docs
        excluded_docs = [d for d in chosen if d.id in not_for and d not in patient_docs]
        rest = [d for d in chosen if d not in patient_docs and d not in excluded_docs]

        sections: list[Section] = []
        if patient_docs:
            sections.append(
                Section(
                    heading=FOR_THIS_PATIENT,
                    points=[composer.point(lookup(self.pack, d.kind, d.id)) for d in patient_docs],
                )
            )
        # Grouped by section first, then made into points in the order shown, so that
        # citations are numbered in order of first use on the page.
        grouped: dict[str, list[Item]] = {}
        for d in rest:
            item = lookup(self.pack, d.kind, d.id)
            head = item.section if isinstance(item, Statement) else heading(d.kind, self.audience)
            grouped.setdefault(head, []).append(item)
        sections.extend(
            Section(heading=h, points=[composer.point(item) for item in items])
            for h, items in grouped.items()
        )
        if excluded_docs:
            sections.append(
                Section(
                    heading=heading("not_for_patient", self.audience),
                    points=[composer.point(lookup(self.pack, d.kind, d.id)) for d in excluded_docs],
                )
            )
        if resolved.followup == "why":
            alternatives = [
                p
                for d in chosen
                if d.kind == "statement"
                for p in composer.alternative_points(self.pack.statements[d.id])
            ]
            if alternatives:
                sections.append(Section(heading=WHERE_SOURCES_DIFFER, points=alternatives))

        first = sections[0].points[0]
        bottom, bottom_cites = opening(first.text), list(first.citations)
        glossary = []
        if self.audience == "patient":
            texts = [bottom, *(p.text for s in sections for p in s.points)]
            shown = {p.source.id for s in sections for p in s.points if p.source.kind == "glossary"}
            glossary = composer.glossary(texts, exclude=shown)

        facets_out = _facets_out(resolved.facets, resolved.sources)
        item_ids = list(dict.fromkeys(d.id for d in [*alert_docs, *chosen]))
        turn = Turn(
            question=self.question,
            topic_query=resolved.topic_query,
            facets=facets_out,
            topic=topic,
            item_ids=item_ids,
        )
        return Answer(
            question=self.question,
            audience=self.audience,
            in_scope=True,
            conversation_id=self.conversation.id if self.conversation else None,
            bottom_line=bottom,
            bottom_line_citations=bottom_cites,
            sections=sections,
            references=composer.references(),
            glossary=glossary,
            follow_ups=self.follow_ups(topic, resolved.facets),
            review=composer.review(),
            disclaimer=self.disclaimer(),
            facets=facets_out,
            topic=topic,
            for_this_patient=[d.id for d in patient_docs],
            patient_alerts=[
                PatientAlert(
                    severity=a.severity,
                    code=a.code,
                    message=a.message,
                    statement_id=a.statement_id,
                )
                for a in alerts
                if a.statement_id in lead_ids
            ],
            not_for_this_patient=[d.id for d in excluded_docs],
            content_version=self.pack.version,
            retrieval=self.retrieval(resolved, search),
            conversation=self.updated(turn),
        )

    def preferred_regimen(self, topic: str | None) -> str | None:
        if self.plan is None or topic is None:
            return None
        phase = _TOPIC_PHASE.get(topic)
        for ph in self.plan.phases:
            if ph.phase == phase:
                for option in ph.regimen_options:
                    if option.preferred:
                        return option.regimen_id
        return None

    def follow_ups(self, topic: str | None, facets: Facets) -> list[str]:
        asked = _plain(self.question)
        out: list[str] = []

        def add(q: str | None) -> None:
            if q and _plain(q) != asked and q not in out and len(out) < 4:
                out.append(q)

        if topic and _population_specific(self.pack, topic):
            add(population_question(NEXT_POPULATION[facets.population], self.audience))
        for t in self.next_topics:
            if t != topic and len(out) < 3:
                add(topic_question(t, self.audience))
        for t in DEFAULT_TOPICS:
            if len(out) >= 3:
                break
            if t != topic:
                add(topic_question(t, self.audience))
        return out

    def disclaimer(self) -> str:
        return DISCLAIMER if self.audience == "clinician" else PATIENT_DISCLAIMER

    def retrieval(self, resolved: _Resolved, search: Query) -> Retrieval:
        note = None
        if not self.index.semantic_enabled and self.index.semantic_error:
            note = f"semantic matching off: {self.index.semantic_error}"
        return Retrieval(
            mode="hybrid" if self.index.semantic_enabled else "lexical",
            followup=resolved.followup,
            resolved_query=resolved.text,
            corrected=dict(self.query.corrected | search.corrected),
            note=note,
        )

    def updated(self, turn: Turn) -> Conversation | None:
        if self.conversation is None:
            return None
        turns = [*self.conversation.turns, turn][-MAX_TURNS:]
        return Conversation(id=self.conversation.id, turns=turns)

    def decline(self, reason: RefusalReason, condition: str | None = None) -> Answer:
        facets_out = _facets_out(
            self.query.facets, {k: "question" for k in _facet_names(self.query.facets)}
        )
        turn = Turn(
            question=self.question,
            topic_query=self.query.topic_text,
            facets=facets_out,
            in_scope=False,
        )
        follow = [q for t in DEFAULT_TOPICS[:3] if (q := topic_question(t, self.audience))]
        return Answer(
            question=self.question,
            audience=self.audience,
            in_scope=False,
            refusal_reason=reason,
            conversation_id=self.conversation.id if self.conversation else None,
            bottom_line=refusal_message(reason, self.audience, condition),
            sections=[],
            references=[],
            glossary=[],
            follow_ups=follow,
            review=Composer(self.pack, self.audience).review(),
            disclaimer=self.disclaimer(),
            facets=facets_out,
            content_version=self.pack.version,
            retrieval=Retrieval(
                mode="hybrid" if self.index.semantic_enabled else "lexical",
                resolved_query=self.question,
                corrected=dict(self.query.corrected),
            ),
            conversation=self.updated(turn),
        )


# ---------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Own:
    full: str
    topic: str


def _without_prefix(q: Query, index: AskIndex) -> _Own:
    """The follow-up's own words, without "what about" and the like."""
    lows = tuple(t.low for t in q.tokens)
    skip = 0
    for prefix in index.lang.followup_prefixes:
        if lows[: len(prefix)] == prefix:
            skip = len(prefix)
            break
    kept = list(enumerate(q.tokens))[skip:]
    full = " ".join(t.text for _, t in kept)
    topic = " ".join(t.text for i, t in kept if i not in q.facet_spans)
    return _Own(full, topic)


def _facet_names(f: Facets) -> list[str]:
    return [k for k in ("population", "ph_status", "lineage") if getattr(f, k)]


def _facets_out(f: Facets, sources: dict[str, str]) -> FacetsOut:
    return FacetsOut(
        population=f.population,
        ph_status=f.ph_status,
        lineage=f.lineage,
        sources=sources,
    )


def _facet_weight(d: Doc, f: Facets, *, asked_population: bool = False) -> float:
    w = 1.0
    if f.population and d.populations:
        if f.population not in d.populations and f.also_population not in d.populations:
            w *= FACET_ADJACENT if _adjacent(f.population, d.populations) else FACET_MISMATCH
        else:
            w *= ASKED_POPULATION_MATCH if asked_population else FACET_MATCH
    elif f.population and asked_population:
        w *= ASKED_POPULATION_GENERAL
    for wanted, have, minority in ((f.ph_status, d.ph, "positive"), (f.lineage, d.lineages, "T")):
        if wanted and have:
            w *= FACET_MATCH if wanted in have else FACET_MISMATCH
        elif not wanted and have == {minority}:
            w *= UNASKED_SUBGROUP
    return w


def _adjacent(population: str, populations: frozenset[str]) -> bool:
    at = POPULATIONS.index(population)
    return any(abs(POPULATIONS.index(p) - at) == 1 for p in populations)


def _plan_facets(plan: Plan, patient: PatientInput | None) -> Facets:
    lineage = patient.lineage.value if patient and patient.lineage else None
    return Facets(
        population=plan.population,
        ph_status=plan.ph_status if plan.ph_status != "unknown" else None,
        lineage=lineage,  # type: ignore[arg-type]
    )


def _plan_for(patient: PatientInput, pack: ContentPack, index: AskIndex) -> Plan:
    """The core engine's plan for this patient (cached per input digest on the index)."""
    key = input_digest(patient)
    cache = index.plans
    plan = cache.get(key)
    if not isinstance(plan, Plan):
        plan = build_plan(patient, pack)
        if len(cache) > 64:
            cache.clear()
        cache[key] = plan
    return plan


def _view_for(plan: Plan, patient: PatientInput, pack: ContentPack, index: AskIndex) -> PlanView:
    key = f"view:{input_digest(patient)}"
    view = index.plans.get(key)
    if not isinstance(view, PlanView):
        view = plan_view(plan, pack, index)
        index.plans[key] = view
    return view


def _answer_topic(chosen: list[Doc]) -> str | None:
    for d in chosen:
        if d.kind == "statement":
            return d.topic
        if d.kind == "regimen" and d.topic in _PHASE_TOPIC:
            return _PHASE_TOPIC[d.topic]
    return None


_POP_SPECIFIC: dict[tuple[str, str], bool] = {}


def _population_specific(pack: ContentPack, topic: str) -> bool:
    """Whether the topic has statements written for particular age groups."""
    key = (pack.version, topic)
    if key not in _POP_SPECIFIC:
        _POP_SPECIFIC[key] = any(
            s.topic == topic and s.applies_to.populations for s in pack.statements.values()
        )
    return _POP_SPECIFIC[key]


def _plain(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def point_text(pack: ContentPack, point: Point, audience: Audience) -> str:
    """The content text a point must equal (used by tests and the benchmark)."""
    return item_text(lookup(pack, point.source.kind, point.source.id), audience)
