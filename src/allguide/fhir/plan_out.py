"""A plan as FHIR R4: a Bundle (type collection) of CarePlan, RequestGroup and
MedicationRequest proposals.

Shape:

- CarePlan (status draft, intent proposal): summary, disclaimer and review status as
  notes, one activity pointing at the RequestGroup.
- RequestGroup: one action per phase; inside it the phase's recommendations (each with
  its citations as `documentation`) and a "regimen options" action (select at most one)
  whose options hold one action per drug line. Every drug action carries its citations
  as RelatedArtifact `documentation`; dosed lines point at their MedicationRequest.
- MedicationRequest (status draft, intent proposal) for every line with a computed dose:
  the dose per administration as a UCUM quantity, SNOMED CT route, timing (dated events
  for induction when a start date is given; otherwise the protocol days as text), the
  cap as maxDosePerAdministration, and notes with the arithmetic and any cap applied.

Nothing is invented: drug codes are added only where the mapping table has a verified
RxNorm code. Ids are UUIDs derived from the plan's input digest, content version and
start date, so the same plan always gives byte-identical JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from allguide.fhir.mapping import MappingTable, mapping_table, tidy
from allguide.knowledge.pack import ContentPack
from allguide.planning.plan import DrugDose, PhasePlan, Plan, ReferenceOut, RegimenOption

PROTOCOL_DAYS = "protocol-days"
PHASE_TITLE = {
    "prephase": "Prephase",
    "induction": "Induction",
    "cns": "CNS-directed therapy",
    "consolidation": "Consolidation",
    "maintenance": "Maintenance",
    "transplant": "Transplant",
    "supportive": "Supportive care",
}
ROUTE_TEXT = {
    "iv": "IV",
    "im": "IM",
    "sc": "SC",
    "po": "by mouth",
    "intrathecal": "intrathecal",
    "intraventricular": "intraventricular (Ommaya)",
}


def plan_to_careplan(
    plan: Plan, pack: ContentPack, *, subject: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The plan as a FHIR R4 Bundle. `subject` is a FHIR Reference to the patient; without
    one the plan names its input digest (allguide does not know who the patient is)."""
    return _Writer(plan, pack, subject).bundle()


def careplan_json(bundle: dict[str, Any]) -> str:
    """Deterministic JSON text (the bundle holds only JSON types; no timestamps)."""
    return json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"


def json_number(value: Decimal) -> int | float:
    """A dose as a JSON number. Every plan dose has few digits, so the float's shortest
    repr writes it back exactly (2.05 stays 2.05)."""
    value = tidy(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _fmt(value: Decimal) -> str:
    return f"{tidy(value):f}"


class _Writer:
    def __init__(self, plan: Plan, pack: ContentPack, subject: dict[str, Any] | None) -> None:
        self.plan = plan
        self.pack = pack
        self.table: MappingTable = mapping_table()
        self.refs: dict[str, ReferenceOut] = {r.id: r for r in plan.references}
        self.subject = subject or {
            "display": f"Patient described by allguide input {plan.input_digest}"
        }
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, self.table.base_url)
        start = plan.start_date.isoformat() if plan.start_date else "no-start-date"
        self.seed = f"{plan.input_digest}|{plan.content_version}|{start}"
        self.requests: list[dict[str, Any]] = []

    def uid(self, name: str) -> str:
        return str(uuid.uuid5(self.namespace, f"{self.seed}|{name}"))

    # ------------------------------------------------------------------ bundle

    def bundle(self) -> dict[str, Any]:
        careplan_id = self.uid("careplan")
        group_id = self.uid("requestgroup")
        group = self.request_group(group_id)
        careplan = self.careplan(careplan_id, group_id)
        resources = [careplan, group, *self.requests]
        return {
            "resourceType": "Bundle",
            "id": self.uid("bundle"),
            "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
        }

    def careplan(self, careplan_id: str, group_id: str) -> dict[str, Any]:
        p = self.plan
        notes = [
            {"text": p.disclaimer},
            {
                "text": f"Review status: {p.review.status} "
                f"({', '.join(f'{n} {s}' for s, n in sorted(p.review.counts.items()))}). "
                f"Content version {p.content_version}; engine {p.engine_version}; input "
                f"{p.input_digest}."
            },
        ]
        notes += [
            {"text": f"{a.severity.upper()}: {a.message}"}
            for a in p.alerts
            if a.severity in ("critical", "warning")
        ]
        if p.missing_data:
            notes.append(
                {
                    "text": "Still needed: "
                    + "; ".join(f"{m.field} ({m.why})" for m in p.missing_data)
                }
            )
        return {
            "resourceType": "CarePlan",
            "id": careplan_id,
            "identifier": [
                {"system": f"{self.table.base_url}/input-digest", "value": p.input_digest}
            ],
            "status": "draft",
            "intent": "proposal",
            "title": "allguide initial treatment plan (proposal, pending review)",
            "description": self.summary(),
            "subject": self.subject,
            "activity": [
                {
                    "reference": {
                        "reference": f"urn:uuid:{group_id}",
                        "display": "Phases, regimen options and proposed drug orders",
                    }
                }
            ],
            "note": notes,
        }

    def summary(self) -> str:
        p = self.plan
        parts = [
            f"Population {p.population}, age {_fmt(p.age_years)} y",
            f"Ph status {p.ph_status}",
            f"fitness {p.fitness}",
        ]
        if p.bsa_m2 is not None:
            parts.append(f"BSA {_fmt(p.bsa_m2)} m²")
        risk = "; ".join(f"{r.scheme} {r.group} ({r.status})" for r in p.risk)
        if risk:
            parts.append(f"risk: {risk}")
        return ". ".join(parts) + "."

    # ------------------------------------------------------------------ RequestGroup

    def request_group(self, group_id: str) -> dict[str, Any]:
        return {
            "resourceType": "RequestGroup",
            "id": group_id,
            "status": "draft",
            "intent": "proposal",
            "subject": self.subject,
            "note": [{"text": self.plan.disclaimer}],
            "action": [self.phase_action(ph) for ph in self.plan.phases],
        }

    def phase_action(self, phase: PhasePlan) -> dict[str, Any]:
        children: list[dict[str, Any]] = []
        for rec in phase.recommendations:
            children.append(
                _compact(
                    {
                        "title": rec.title,
                        "description": f"{rec.text} (rule {rec.rule}; {rec.review_status})",
                        "documentation": self.documentation(rec.citations),
                    }
                )
            )
        if phase.regimen_options:
            options = [self.option_action(phase, i, o) for i, o in enumerate(phase.regimen_options)]
            children.append(
                {
                    "title": f"Regimen options for {phase.phase}",
                    "description": "Choose at most one; the preferred option is listed first.",
                    "selectionBehavior": "at-most-one",
                    "action": options,
                }
            )
        return {
            "title": PHASE_TITLE.get(phase.phase, phase.phase),
            "selectionBehavior": "all",
            "action": children,
        }

    def option_action(self, phase: PhasePlan, index: int, option: RegimenOption) -> dict[str, Any]:
        drugs = [self.drug_action(phase, option, index, i, d) for i, d in enumerate(option.drugs)]
        label = "preferred" if option.preferred else "alternative"
        description = f"{label}: {option.why} Review status: {option.review_status}."
        if option.excluded_lines:
            description += " Not applicable: " + "; ".join(option.excluded_lines) + "."
        return _compact(
            {
                "title": option.name,
                "description": description,
                "documentation": self.documentation(option.citations),
                "selectionBehavior": "all",
                "action": drugs,
            }
        )

    def drug_action(
        self, phase: PhasePlan, option: RegimenOption, oi: int, di: int, d: DrugDose
    ) -> dict[str, Any]:
        name = self.drug_name(d.drug)
        route = ROUTE_TEXT.get(d.route, d.route)
        action: dict[str, Any] = {
            "title": f"{name} {route}",
            "description": self.dose_text(d),
            "documentation": self.documentation(d.citations or option.citations),
        }
        if d.dose is not None and d.dose.amount is not None:
            request_id = self.uid(f"{phase.phase}|{oi}|{option.regimen_id}|{di}|{d.drug}")
            self.requests.append(self.medication_request(request_id, phase, option, d))
            action["resource"] = {"reference": f"urn:uuid:{request_id}"}
        return _compact(action)

    def documentation(self, citations: list[str]) -> list[dict[str, Any]]:
        out = []
        for ref_id in citations:
            ref = self.refs.get(ref_id)
            if ref is None:
                continue
            out.append(
                _compact(
                    {
                        "type": "citation",
                        "label": f"[{ref.n}]",
                        "citation": ref.citation,
                        "url": ref.url,
                    }
                )
            )
        return out

    # ------------------------------------------------------------------ MedicationRequest

    def drug_name(self, drug_id: str) -> str:
        drug = self.pack.drugs.get(drug_id)
        return drug.name if drug else drug_id

    @staticmethod
    def administered(d: DrugDose) -> Decimal:
        """Dose per administration: the divided dose when a daily total is split."""
        assert d.dose is not None and d.dose.amount is not None
        if d.per == "day" and d.divided_doses > 1 and d.per_divided_dose is not None:
            return d.per_divided_dose
        return d.dose.amount

    def dose_text(self, d: DrugDose) -> str:
        route = ROUTE_TEXT.get(d.route, d.route)
        days = ", ".join(str(x) for x in d.days)
        if d.dose is None or d.dose.amount is None:
            why = d.not_computed_reason or "not computed"
            return f"Dose per protocol ({why}); {route}; days {days}."
        unit = d.dose.unit
        if d.per == "day" and d.divided_doses > 1 and d.per_divided_dose is not None:
            dose = (
                f"{_fmt(d.per_divided_dose)} {unit} {d.divided_doses} times a day "
                f"({_fmt(d.dose.amount)} {unit}/day)"
            )
        elif d.per == "day":
            dose = f"{_fmt(d.dose.amount)} {unit} once a day"
        else:
            dose = f"{_fmt(d.dose.amount)} {unit}"
        text = f"{dose} {route} on days {days}; {d.basis}"
        if d.rounding:
            text += f", {d.rounding}"
        if d.cap_applied and d.cap is not None and d.uncapped_dose is not None:
            text += (
                f"; capped at {_fmt(d.cap.amount or Decimal(0))} {d.cap.unit} "
                f"(computed {_fmt(d.uncapped_dose)} {unit})"
            )
        if d.condition:
            text += f"; {d.condition}"
        return text + "."

    def medication_request(
        self, request_id: str, phase: PhasePlan, option: RegimenOption, d: DrugDose
    ) -> dict[str, Any]:
        assert d.dose is not None
        unit = self.table.dose_unit(d.dose.unit)
        route = self.table.route_code(d.route)
        concept: dict[str, Any] = {"text": self.drug_name(d.drug)}
        med = self.table.medication_code(d.drug)
        if med is not None:
            concept = {
                "coding": [
                    {"system": self.table.url(med.system), "code": med.code, "display": med.display}
                ],
                "text": self.drug_name(d.drug),
            }
        dosage: dict[str, Any] = {
            "sequence": 1,
            "text": self.dose_text(d),
            "timing": self.timing(phase, d),
            "route": {
                "coding": [
                    {
                        "system": self.table.url(route.system),
                        "code": route.code,
                        "display": route.display,
                    }
                ],
                "text": d.route,
            },
            "doseAndRate": [{"doseQuantity": self.quantity(self.administered(d), unit.unit.value)}],
        }
        if d.cap is not None and d.cap.amount is not None:
            cap = self.quantity(d.cap.amount, d.cap.unit)
            if d.per == "day":
                dosage["maxDosePerPeriod"] = {
                    "numerator": cap,
                    "denominator": {
                        "value": 1,
                        "unit": "day",
                        "system": self.table.url("ucum"),
                        "code": "d",
                    },
                }
            else:
                dosage["maxDosePerAdministration"] = cap
        notes = [f"Basis: {d.basis}" + (f"; {d.rounding}" if d.rounding else "") + "."]
        if d.cap_applied and d.uncapped_dose is not None and d.cap is not None:
            notes.append(
                f"Cap applied: computed {_fmt(d.uncapped_dose)} {d.dose.unit} exceeds the cap of "
                f"{_fmt(d.cap.amount or Decimal(0))} {d.cap.unit}; the capped dose is proposed."
            )
        if d.schedule:
            notes.append(f"Schedule: {d.schedule}")
        if d.condition:
            notes.append(f"Condition: {d.condition}")
        cited = [self.refs[c] for c in d.citations or option.citations if c in self.refs]
        if cited:
            notes.append("Citations: " + "; ".join(f"[{r.n}] {r.url or r.citation}" for r in cited))
        notes.append(f"Regimen {option.regimen_id} ({option.review_status}); not a medical order.")
        base = self.table.base_url
        return {
            "resourceType": "MedicationRequest",
            "id": request_id,
            "extension": [
                {"url": f"{base}/StructureDefinition/treatment-phase", "valueCode": phase.phase},
                {"url": f"{base}/StructureDefinition/regimen", "valueString": option.regimen_id},
            ],
            "status": "draft",
            "intent": "proposal",
            "medicationCodeableConcept": concept,
            "subject": self.subject,
            "note": [{"text": n} for n in notes],
            "dosageInstruction": [dosage],
        }

    def quantity(self, amount: Decimal, unit: str) -> dict[str, Any]:
        u = self.table.dose_unit(unit)
        return {
            "value": json_number(amount),
            "unit": unit,
            "system": self.table.url("ucum"),
            "code": u.ucum,
        }

    def timing(self, phase: PhasePlan, d: DrugDose) -> dict[str, Any]:
        # The protocol's day numbers, machine-readable, so the order checks can read them
        # back (the dated events exist only for induction with a start date).
        timing: dict[str, Any] = {
            "extension": [
                {
                    "url": f"{self.table.base_url}/StructureDefinition/{PROTOCOL_DAYS}",
                    "valueString": ", ".join(str(x) for x in d.days),
                }
            ]
        }
        start = self.plan.start_date
        if phase.phase == "induction" and start is not None:
            timing["event"] = [(start + dt.timedelta(days=day - 1)).isoformat() for day in d.days]
        days = ", ".join(str(x) for x in d.days)
        text = f"{PHASE_TITLE.get(phase.phase, phase.phase)} day(s) {days}"
        if d.schedule:
            text += f". {d.schedule}"
        if d.per == "day" and d.divided_doses > 1:
            timing["repeat"] = {"frequency": d.divided_doses, "period": 1, "periodUnit": "d"}
        timing["code"] = {"text": text}
        return timing


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    """FHIR forbids empty elements: drop None, "" and []."""
    return {k: v for k, v in d.items() if v not in (None, "", [])}
