"""What the core engine's plan says about one patient, in the terms an answer needs.

The ask engine decides no treatment itself: with a patient, it follows the plan of
`planning.engine.build_plan`. Every mapping below is read from the plan's structured
fields (alert rules, recommendation drugs, regimen options) and the rule catalog, so it
holds for any alert the engine raises, not only the ones written today:

- `uses`: content items the plan uses for this patient (statements of its recommendations
  and alerts, its preferred regimens) — boosted and shown under "For this patient";
- `alerts`: the plan's alerts, each with the statement its rule serves and the drugs its
  message and statement title name;
- `excluded_drugs`: drugs an alert names that none of the plan's options gives
  (rasburicase with G6PD deficiency; imatinib with ABL1 T315I);
- `held_back_drugs`: drugs an alert names that no *preferred* option gives (also
  rasburicase while G6PD status is unknown: offered only once deficiency is excluded);
- `not_for_patient`: items that give an excluded drug — recommendations of the plan whose
  drugs include one, and regimens with such a drug line. They never appear as applying to
  this patient.
"""

from __future__ import annotations

from dataclasses import dataclass

from allguide.ask.index import AskIndex, Doc
from allguide.knowledge.pack import ContentPack
from allguide.planning.catalog import RULES
from allguide.planning.plan import Plan, Severity

SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "warning", "info")
# Alerts that may lead an answer; information ranks like any other item.
LEADING_SEVERITIES: frozenset[Severity] = frozenset({"critical", "warning"})


@dataclass(frozen=True)
class PlanAlertRef:
    severity: Severity
    code: str
    message: str
    statement_id: str | None  # the statement the alert's rule serves (None if unknown)
    drugs: frozenset[str]  # drug ids named by the message or the statement's title


@dataclass(frozen=True)
class PlanView:
    uses: frozenset[str]
    alerts: tuple[PlanAlertRef, ...]
    excluded_drugs: frozenset[str]
    held_back_drugs: frozenset[str]
    not_for_patient: frozenset[str]
    # The plan's recommendations in plan order: (statement id, drugs its title names,
    # drugs the recommendation gives).
    recommendations: tuple[tuple[str, frozenset[str], frozenset[str]], ...]

    def relevant_alerts(self, chosen: list[Doc], index: AskIndex) -> list[PlanAlertRef]:
        """Alerts that bear on an answer made of these items, most severe first.

        An alert bears on the answer when it names a drug the plan holds back for this
        patient and one of the items names that drug ("high-risk patients should receive
        rasburicase" for a G6PD-deficient patient), or when its statement is among the
        items. At equal severity, the drug-related alerts come first.
        """
        ids = {d.id for d in chosen}
        named: set[str] = set()
        for d in chosen:
            named |= index.doc_drugs(d)
        ranked: list[tuple[int, int, PlanAlertRef]] = []
        for alert in self.alerts:
            if alert.severity not in LEADING_SEVERITIES:
                continue
            about_drug = bool(alert.drugs & self.held_back_drugs & named)
            if about_drug or alert.statement_id in ids:
                severity = SEVERITY_ORDER.index(alert.severity)
                ranked.append((severity, 0 if about_drug else 1, alert))
        ranked.sort(key=lambda r: (r[0], r[1]))  # stable: plan order within a tie
        return [a for _, _, a in ranked]

    def lead_items(self, alerts: list[PlanAlertRef]) -> list[str]:
        """Statement ids that lead the patient points: each alert's statement, then the
        plan's recommendations that are about a drug it holds back without giving it (titled
        with it: "Rasburicase — check G6PD status first"), in alert order."""
        out: list[str] = []
        for alert in alerts:
            if alert.statement_id:
                out.append(alert.statement_id)
            drugs = alert.drugs & self.held_back_drugs
            if drugs:
                out.extend(
                    sid
                    for sid, about, gives in self.recommendations
                    if drugs & about and not drugs & gives and sid not in self.not_for_patient
                )
        return list(dict.fromkeys(out))


def plan_view(plan: Plan, pack: ContentPack, index: AskIndex) -> PlanView:
    """Read the plan (see the module docstring for what each part means)."""
    offered: set[str] = set()
    preferred: set[str] = set()
    preferred_regimens: set[str] = set()
    for ph in plan.phases:
        for option in ph.regimen_options:
            drugs = {d.drug for d in option.drugs}
            offered |= drugs
            if option.preferred:
                preferred |= drugs
                preferred_regimens.add(option.regimen_id)
    if plan.tki is not None:
        preferred |= set(plan.tki.preferred)
        offered |= set(plan.tki.preferred) | set(plan.tki.alternatives)

    alerts = []
    for a in plan.alerts:
        rule = RULES.get(a.rule)
        stmt = pack.statements.get(rule.statement) if rule else None
        text = a.message if stmt is None else f"{a.message}\n{stmt.title}"
        alerts.append(
            PlanAlertRef(
                severity=a.severity,
                code=a.code,
                message=a.message,
                statement_id=stmt.id if stmt else None,
                drugs=index.drugs_named(text),
            )
        )
    # Only alerts that may lead an answer rule drugs out, so an answer touching a ruled-out
    # drug always has an alert to lead with.
    named = frozenset(d for a in alerts if a.severity in LEADING_SEVERITIES for d in a.drugs)
    excluded = named - offered
    held_back = named - preferred

    not_for: set[str] = set()
    recommended: dict[str, frozenset[str]] = {}  # statement id -> drugs given, plan order
    for ph in plan.phases:
        for rec in ph.recommendations:
            if excluded & set(rec.drugs):
                not_for.add(rec.statement_id)
            else:
                given = recommended.get(rec.statement_id, frozenset())
                recommended[rec.statement_id] = given | set(rec.drugs)
    for regimen in pack.regimens.values():
        if excluded & {line.drug for line in regimen.drugs}:
            not_for.add(regimen.id)
    # A statement the plan also uses without the excluded drug stays usable only where it
    # gives none: one recommendation naming the drug is enough to keep it out.
    uses = (set(recommended) - not_for) | {a.statement_id for a in alerts if a.statement_id}
    uses |= preferred_regimens - not_for
    return PlanView(
        uses=frozenset(uses),
        alerts=tuple(alerts),
        excluded_drugs=excluded,
        held_back_drugs=held_back,
        not_for_patient=frozenset(not_for),
        recommendations=tuple(
            (sid, index.drugs_named(pack.statements[sid].title), gives)
            for sid, gives in recommended.items()
            if sid in pack.statements and sid not in not_for
        ),
    )
