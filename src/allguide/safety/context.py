"""What the rules see: resolved orders and medicines, the patient's plan, and helpers.

Built once per check. The plan (from `build_plan`) supplies the patient's population,
body-surface area and the computed dose of every line of the preferred regimens, which
is what the dose rules compare an order with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from allguide.dosing.doses import mosteller_bsa
from allguide.dosing.units import UnitError, convert
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Drug, DrugGroup, Phase, Route, Threshold
from allguide.patient.model import PatientInput
from allguide.planning.engine import build_plan, format_reference, reference_url
from allguide.planning.plan import DrugDose, PhaseName, Plan, RegimenOption
from allguide.planning.regimens import regimen_option
from allguide.safety.catalog import ORDER_RULES, Severity
from allguide.safety.orders import Order, OrderSet, resolve_drug
from allguide.safety.result import Citation, Finding, SuggestedDose, SuggestedOrder

INTRATHECAL_ROUTES = frozenset({"intrathecal", "intraventricular"})


@dataclass(frozen=True)
class Placed:
    """An order with its 0-based position and its content drug (None if unknown)."""

    index: int
    order: Order
    drug: Drug | None

    def label(self) -> str:
        o = self.order
        per_day = f" × {o.per_day}/day" if o.per_day > 1 else ""
        days = ", ".join(str(d) for d in o.days)
        return (
            f"order {self.index + 1} ({o.drug} {fmt(o.dose.amount)} {o.dose.unit}{per_day} "
            f"{o.route.value}, day {days})"
        )


@dataclass(frozen=True)
class Other:
    """Another drug present with an order: in the order set or a current medicine."""

    drug: Drug
    where: str  # "order 3" or "current medicines"


@dataclass(frozen=True)
class LineMatch:
    regimen_id: str
    line: DrugDose


@dataclass
class CheckContext:
    order_set: OrderSet
    patient: PatientInput | None
    pack: ContentPack
    today: dt.date
    placed: list[Placed] = field(init=False)
    plan: Plan | None = field(init=False)
    medicines: list[Drug] = field(init=False)
    unrecognised: list[tuple[str, str]] = field(init=False)  # (field, name as written)
    reacted_to: list[Drug] = field(init=False)

    def __post_init__(self) -> None:
        self.placed = [
            Placed(i, order, self.pack.drugs.get(order.drug))
            for i, order in enumerate(self.order_set.orders)
        ]
        self.plan = build_plan(self.patient, self.pack) if self.patient is not None else None
        self.unrecognised = []
        p = self.patient
        self.medicines = self._resolve("current_medications", p.current_medications if p else None)
        self.reacted_to = self._resolve(
            "asparaginase_reactions", p.asparaginase_reactions if p else None
        )

    def _resolve(self, field_name: str, names: Iterable[str] | None) -> list[Drug]:
        out: list[Drug] = []
        for name in names or ():
            drug_id, _ = resolve_drug(name, self.pack)
            if drug_id is None:
                self.unrecognised.append((field_name, name))
            else:
                out.append(self.pack.drugs[drug_id])
        return out

    # ------------------------------------------------------------------ lookups

    @property
    def bsa(self) -> Decimal | None:
        return self.plan.bsa_m2 if self.plan else None

    def orders_in(self, group: DrugGroup) -> Iterator[Placed]:
        return (p for p in self.placed if p.drug is not None and group in p.drug.groups)

    def orders_of(self, drug_id: str) -> Iterator[Placed]:
        return (p for p in self.placed if p.order.drug == drug_id)

    def others_in(self, group: DrugGroup, *, besides: int | None = None) -> list[Other]:
        """Drugs of a group among the other orders and the current medicines."""
        found = [
            Other(p.drug, f"order {p.index + 1}")
            for p in self.placed
            if p.drug is not None and group in p.drug.groups and p.index != besides
        ]
        found += [Other(d, "current medicines") for d in self.medicines if group in d.groups]
        return found

    def cutoff(self, threshold_id: str) -> Threshold:
        return self.pack.thresholds[threshold_id]

    def meets(self, threshold_id: str, value: Decimal) -> bool:
        """Whether a value meets a threshold, using the threshold's own comparison."""
        t = self.cutoff(threshold_id)
        return {
            ">": value > t.value,
            ">=": value >= t.value,
            "<": value < t.value,
            "<=": value <= t.value,
        }[t.comparison]

    # ------------------------------------------------------------------ regimen lines

    def scope(self) -> list[RegimenOption] | str:
        """Regimen options whose lines an order is compared with, or why there are none."""
        if self.plan is None or self.patient is None:
            return "no patient data was given"
        named = self.order_set.regimen
        phase = self.order_set.phase
        supportive = self._preferred(("supportive",))
        if named is not None:
            regimen = self.pack.regimens[named]
            ph: PhaseName = (phase or regimen.phases[0]).value
            p = self.patient
            bsa = (
                mosteller_bsa(p.height_cm, p.weight_kg)
                if p.height_cm is not None and p.weight_kg is not None
                else None
            )
            option = regimen_option(
                regimen,
                ph,
                preferred=False,
                why="named in the order set",
                patient=p,
                pack=self.pack,
                bsa=bsa,
            )
            return [option, *supportive]
        if phase is None:
            return self._preferred(None)
        preferred = self._preferred((phase.value,))
        if not preferred and phase != Phase.supportive:
            return (
                f"the plan has no preferred {phase.value} regimen for this patient (risk group "
                "or data missing); name the regimen in the order set"
            )
        return preferred + [o for o in supportive if o not in preferred]

    def _preferred(self, phases: tuple[str, ...] | None) -> list[RegimenOption]:
        assert self.plan is not None
        return [
            o
            for ph in self.plan.phases
            if phases is None or ph.phase in phases
            for o in ph.regimen_options
            if o.preferred
        ]

    def line_for(self, placed: Placed) -> LineMatch | str:
        """The regimen line an order corresponds to, or why none could be chosen."""
        scope = self.scope()
        if isinstance(scope, str):
            return scope
        order = placed.order
        route = self._obvious_fixes(placed)[0]  # a wrong route is compared as corrected
        candidates = [
            (opt.regimen_id, line)
            for opt in scope
            for line in opt.drugs
            if line.drug == order.drug and line.route == route
        ]
        where = "the order set's regimen" if self.order_set.regimen else "the preferred regimen"
        if self.order_set.phase is not None and not self.order_set.regimen:
            where += f" for {self.order_set.phase.value}"
        if not candidates:
            return f"{where} has no {order.drug} {route} line"
        overlapping = [c for c in candidates if set(c[1].days) & set(order.days)] or candidates
        doses = {(c[1].per, c[1].dose) for c in overlapping}
        if len(doses) > 1:
            if self.order_set.phase is None:
                return (
                    f"{order.drug} {route} has different doses in different phases; "
                    "give the order set's phase"
                )
            return f"{where} has several {order.drug} {route} lines with different doses"
        regimen_id, line = overlapping[0]
        return LineMatch(regimen_id, line)

    # ------------------------------------------------------------------ findings

    def finding(
        self,
        rule_id: str,
        severity: Severity,
        message: str,
        *,
        code: str | None = None,
        order_index: int | None = None,
        suggestion: SuggestedOrder | None = None,
        extra_citations: Iterable[str] = (),
    ) -> Finding:
        rule = ORDER_RULES[rule_id]
        codes = dict(rule.codes)
        code = code or rule.code
        assert code in codes, f"{code} is not a code of rule {rule_id}"
        stmt = self.pack.statements.get(rule.statement)
        ref_ids = list(dict.fromkeys([*(stmt.citations if stmt else []), *extra_citations]))
        return Finding(
            severity=severity,
            code=code,
            message=message,
            rule=rule_id,
            statement_id=rule.statement,
            title=stmt.title if stmt else rule.title,
            citations=[self.citation(r) for r in ref_ids if r in self.pack.references],
            order_index=order_index,
            suggestion=suggestion,
            review_status=stmt.review.status.value if stmt else "missing",
        )

    def citation(self, ref_id: str) -> Citation:
        ref = self.pack.references[ref_id]
        return Citation(id=ref_id, citation=format_reference(ref), url=reference_url(ref))

    def suggest(
        self,
        placed: Placed,
        *,
        route: str | None = None,
        amount: Decimal | None = None,
        unit: str | None = None,
        per_day: int | None = None,
    ) -> SuggestedOrder:
        """The order with the given fields replaced and every other obvious fix applied.

        Obvious fixes (so that no suggestion repeats another error): a vinca alkaloid goes
        intravenous, a route the drug must never take becomes its only allowed route, and a
        dose above the drug's hard limit becomes the limit.
        """
        o = placed.order
        base_route, base_amount, base_unit = self._obvious_fixes(placed)
        new_route = route or base_route
        new_amount = amount if amount is not None else base_amount
        new_unit = unit or base_unit
        new_per_day = per_day or o.per_day
        changed = [
            name
            for name, before, after in (
                ("route", o.route.value, new_route),
                ("dose.amount", o.dose.amount, new_amount),
                ("dose.unit", o.dose.unit, new_unit),
                ("per_day", o.per_day, new_per_day),
            )
            if before != after
        ]
        return SuggestedOrder(
            drug=o.drug,
            dose=SuggestedDose(amount=new_amount.normalize(), unit=new_unit),
            route=new_route,
            days=list(o.days),
            per_day=new_per_day,
            changed=changed,
        )

    def _obvious_fixes(self, placed: Placed) -> tuple[str, Decimal, str]:
        o, drug = placed.order, placed.drug
        route, amount, unit = o.route.value, o.dose.amount, o.dose.unit
        if drug is None:
            return route, amount, unit
        if DrugGroup.vinca_alkaloid in drug.groups and o.route != Route.iv:
            route = Route.iv.value
        elif any(r.route == o.route for r in drug.never_routes) and len(drug.routes) == 1:
            route = drug.routes[0].value
        for limit in drug.limits:
            cap = limit.max_single_dose
            ordered = amount_in(o.dose.amount, o.dose.unit, cap.unit.value)
            if ordered is not None and ordered > cap.amount:
                amount, unit = cap.amount, cap.unit.value
        return route, amount, unit


def amount_in(amount: Decimal, unit: str, target: str) -> Decimal | None:
    """An amount in another unit (g, mg, mcg convert exactly; IU only to IU)."""
    if unit == target:
        return amount
    try:
        return convert(amount, unit, target)
    except UnitError:
        return None


def fmt(value: Decimal, places: int = 2) -> str:
    """Short human number: at most `places` decimals, no trailing zeros."""
    try:
        q = value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # too many digits to round: show as is
        return f"{value:f}"
    return f"{q.normalize():f}"
