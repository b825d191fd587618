"""FHIR R4 MedicationRequests → an order set for the order checks (`allguide.safety`).

Each dosage instruction of each MedicationRequest becomes one `Order`:

- drug: the content drug, by a verified RxNorm code or an exact name, brand or alias;
- dose: `doseAndRate[0].doseQuantity` in mg, g, mcg (UCUM `ug`) or IU (UCUM `[iU]`);
- route: SNOMED CT route code (mapping table), else the route's text;
- days: allguide's own `protocol-days` timing extension, else `timing.event` dates (day 1
  = the earliest date in the set, or `start`), else `timing.repeat` with bounds or a
  count; per-day frequency from `repeat.frequency` per 1 day.

An order that cannot be read is reported (with the resource id and the path) and left
out: it is *not checked*, and the problem says so. Nothing is guessed: a volume (mL), a
dose per m² or a dose range is refused, never converted.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from allguide.fhir.intake import FhirProblem, Severity
from allguide.fhir.mapping import MappingTable, mapping_table
from allguide.fhir.names import drug_for, words_equal
from allguide.fhir.plan_out import PROTOCOL_DAYS
from allguide.fhir.resources import (
    CodeableConcept,
    Dosage,
    MedicationRequest,
    Quantity,
    RawResource,
    Timing,
    flatten,
    parse_when,
)
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Phase, Route
from allguide.safety.orders import MAX_DAY, Order, OrderDose, OrderSet

_READ_STATUS = {None, "draft", "active", "on-hold"}
_PERIOD_DAYS = {"d": 1, "wk": 7}


@dataclass(frozen=True)
class _Read:
    """One MedicationRequest, parsed, with its label."""

    raw: RawResource
    request: MedicationRequest


def orders_from_fhir(
    medication_requests_or_bundle: Any,
    pack: ContentPack,
    *,
    phase: Phase | str | None = None,
    start: dt.date | None = None,
) -> tuple[OrderSet | None, list[FhirProblem]]:
    """Read MedicationRequests (a Bundle such as CDS Hooks `draftOrders`, one resource, or
    a list). Returns the order set (None when no order could be read) and every problem.

    `phase` overrides the phase read from allguide's treatment-phase extension; `start` is
    day 1 for dated timings (default: the earliest date in the set)."""
    return _Reader(pack, start).run(medication_requests_or_bundle, phase)


def earliest_date(requests: Iterable[MedicationRequest]) -> dt.date | None:
    """Day 1 of an order set: the first date any of its requests is timed for."""
    dates: list[dt.date] = []
    for request in requests:
        for dosage in request.dosageInstruction:
            timing = dosage.timing
            if timing is None:
                continue
            dates += [w.day for e in timing.event if (w := parse_when(e)) is not None]
            bounds = timing.repeat.boundsPeriod if timing.repeat else None
            if bounds is not None and (w := parse_when(bounds.start)) is not None:
                dates.append(w.day)
    return min(dates) if dates else None


class _Reader:
    def __init__(self, pack: ContentPack, start: dt.date | None) -> None:
        self.pack = pack
        self.start = start
        self.table: MappingTable = mapping_table()
        self.problems: list[FhirProblem] = []

    def problem(self, severity: Severity, resource: str, path: str, message: str) -> None:
        self.problems.append(
            FhirProblem(severity=severity, resource=resource, path=path, message=message)
        )

    # ------------------------------------------------------------------ run

    def run(
        self, source: Any, phase: Phase | str | None
    ) -> tuple[OrderSet | None, list[FhirProblem]]:
        raws, bad = flatten(source)
        for where, message in bad:
            self.problem("error", "Bundle", where, message)
        requests: list[_Read] = []
        for raw in raws:
            if raw.type != "MedicationRequest":
                self.problem(
                    "info", raw.label, "", f"not a MedicationRequest ({raw.type}): not checked"
                )
                continue
            try:
                request = MedicationRequest.model_validate(raw.data)
            except ValidationError as exc:
                for err in exc.errors():
                    path = ".".join(str(p) for p in err["loc"])
                    self.problem(
                        "error", raw.label, path, f"cannot read: {err['msg']}; not checked"
                    )
                continue
            if request.status not in _READ_STATUS:
                self.problem("info", raw.label, "status", f"status '{request.status}': not checked")
                continue
            requests.append(_Read(raw, request))
        if self.start is None:
            self.start = earliest_date(read.request for read in requests)
        orders: list[Order] = []
        for read in requests:
            orders += self._orders(read)
        if not requests and not bad:
            self.problem("error", "Bundle", "entry", "no MedicationRequest to check")
        order_set = None
        if orders:
            order_set = OrderSet(
                orders=orders, phase=self._phase(requests, phase), regimen=self._regimen(requests)
            )
        order = {"error": 0, "warning": 1, "info": 2}
        return order_set, sorted(self.problems, key=lambda p: order[p.severity])

    # ------------------------------------------------------------------ one request

    def _orders(self, read: _Read) -> list[Order]:
        raw, request = read.raw, read.request
        concept = request.medicationCodeableConcept
        if concept is None or concept.empty:
            why = (
                "medicationReference is not followed; give medicationCodeableConcept"
                if request.medicationReference is not None
                else "no medication"
            )
            self.problem("error", raw.label, "medication[x]", f"{why}: order not checked")
            return []
        drug, ambiguous = drug_for(concept, self.pack, self.table)
        if drug is None:
            why = ambiguous or f"{concept.describe()} is not a drug in allguide's content pack"
            self.problem(
                "warning", raw.label, "medicationCodeableConcept", f"{why}: order not checked"
            )
            return []
        if not request.dosageInstruction:
            self.problem(
                "error", raw.label, "dosageInstruction", f"{drug.name} has no dosage: not checked"
            )
            return []
        out: list[Order] = []
        for j, dosage in enumerate(request.dosageInstruction):
            order = self._order(raw.label, f"dosageInstruction[{j}]", drug.id, drug.name, dosage)
            if order is not None:
                out.append(order)
        return out

    def _order(
        self, label: str, path: str, drug_id: str, name: str, dosage: Dosage
    ) -> Order | None:
        dose = self._dose(label, path, name, dosage)
        route = self._route(label, path, name, dosage.route)
        if dose is None or route is None:
            return None  # not checked: timing notes would only add noise
        days_per_day = self._days(label, path, name, dosage.timing)
        if days_per_day is None:
            return None
        days, per_day = days_per_day
        try:
            return Order(drug=drug_id, dose=dose, route=route, days=days, per_day=per_day)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                self.problem("error", label, path, f"{name}: {where}: {err['msg']}; not checked")
            return None

    def _dose(self, label: str, path: str, name: str, dosage: Dosage) -> OrderDose | None:
        where = f"{path}.doseAndRate[0].doseQuantity"
        quantity: Quantity | None = None
        if dosage.doseAndRate:
            quantity = dosage.doseAndRate[0].doseQuantity
        if quantity is None or quantity.value is None:
            self.problem(
                "error",
                label,
                where,
                f"{name}: no dose (doseQuantity with value and unit): not checked",
            )
            return None
        given = quantity.code or quantity.unit or ""
        unit = None
        for candidate in (quantity.code, quantity.unit):
            if candidate is None:
                continue
            for u in self.table.dose_units:
                if candidate in u.codes or words_equal(candidate, u.codes):
                    unit = u.unit.value
                    break
            if unit is not None:
                break
        if unit is None or unit == "mL":
            hint = ""
            if unit == "mL":
                hint = "; give the amount of drug, not a volume"
            elif "/" in given:
                hint = "; give the absolute dose for this patient, not a dose per m² or kg"
            expected = ", ".join(u.ucum for u in self.table.dose_units if u.unit.value != "mL")
            self.problem(
                "error",
                label,
                f"{where}.unit",
                f"{name} {quantity.describe()}: unit '{given or '(none)'}' not accepted "
                f"(one of {expected}){hint}: not checked",
            )
            return None
        if quantity.value <= 0:
            self.problem(
                "error", label, f"{where}.value", f"{name}: dose {quantity.value} is not positive"
            )
            return None
        return OrderDose(amount=quantity.value, unit=unit)

    def _route(
        self, label: str, path: str, name: str, concept: CodeableConcept | None
    ) -> Route | None:
        where = f"{path}.route"
        if concept is None or concept.empty:
            self.problem("error", label, where, f"{name}: no route: not checked")
            return None
        for coding in concept.coding:
            for r in self.table.routes:
                if coding.system == self.table.url(r.system) and coding.code == r.code:
                    return r.route
        for text in concept.words() + [c.code for c in concept.coding if c.code]:
            for r in self.table.routes:
                if words_equal(text, r.words) or words_equal(text, [r.display, r.route.value]):
                    return r.route
        self.problem(
            "error",
            label,
            where,
            f"{name}: route {concept.describe()} not recognised (SNOMED CT route codes: "
            "docs/fhir-mapping.md): not checked",
        )
        return None

    def _days(
        self, label: str, path: str, name: str, timing: Timing | None
    ) -> tuple[list[int], int] | None:
        where = f"{path}.timing"
        if timing is None:
            self.problem("warning", label, where, f"{name}: no timing: read as one dose on day 1")
            return [1], 1
        repeat = timing.repeat
        per_day = 1
        if repeat and repeat.frequency and repeat.period == 1 and repeat.periodUnit == "d":
            per_day = repeat.frequency
        url = f"{self.table.base_url}/StructureDefinition/{PROTOCOL_DAYS}"
        for ext in timing.extension:
            if ext.url == url and ext.valueString:
                days = [int(x) for x in re.findall(r"-?\d+", ext.valueString)]
                if days and all(1 <= d <= MAX_DAY for d in days):
                    return sorted(set(days)), per_day
                self.problem(
                    "error",
                    label,
                    f"{where}.extension",
                    f"{name}: protocol days '{ext.valueString}' are not day numbers from 1 to "
                    f"{MAX_DAY}: not checked",
                )
                return None
        if timing.event:
            return self._event_days(label, where, name, timing.event, per_day)
        if repeat is not None:
            return self._repeat_days(label, where, name, timing, per_day)
        self.problem(
            "warning", label, where, f"{name}: timing not understood: read as one dose on day 1"
        )
        return [1], per_day

    def _day_number(self, day: dt.date) -> int:
        assert self.start is not None
        return (day - self.start).days + 1

    def _event_days(
        self, label: str, where: str, name: str, events: list[str], per_day: int
    ) -> tuple[list[int], int] | None:
        days: set[int] = set()
        for i, text in enumerate(events):
            when = parse_when(text)
            if when is None:
                self.problem(
                    "error",
                    label,
                    f"{where}.event[{i}]",
                    f"{name}: '{text}' is not a date: not checked",
                )
                return None
            days.add(self._day_number(when.day))
        if len(events) > len(days):
            per_day = max(per_day, math.ceil(len(events) / len(days)))
        return sorted(days), per_day

    def _repeat_days(
        self, label: str, where: str, name: str, timing: Timing, per_day: int
    ) -> tuple[list[int], int] | None:
        repeat = timing.repeat
        assert repeat is not None
        step = 1
        if repeat.period is not None and repeat.periodUnit in _PERIOD_DAYS:
            step_days = repeat.period * _PERIOD_DAYS[repeat.periodUnit]
            if step_days != step_days.to_integral_value() or step_days < 1:
                step_days = Decimal(1)
            step = int(step_days)
            if repeat.periodUnit == "wk" and (repeat.frequency or 1) > 1:
                self.problem(
                    "warning",
                    label,
                    f"{where}.repeat",
                    f"{name}: {repeat.frequency} times per {repeat.period} week(s) has no fixed "
                    "days: read as once per period",
                )
        first = 1
        bounds = repeat.boundsPeriod
        start_when = parse_when(bounds.start) if bounds else None
        end_when = parse_when(bounds.end) if bounds else None
        if start_when is not None and self.start is not None:
            first = self._day_number(start_when.day)
        count: int | None = None
        if repeat.count is not None:
            per_step = per_day if step == 1 else 1
            count = max(1, math.ceil(repeat.count / per_step))
        elif end_when is not None and start_when is not None:
            count = (end_when.day - start_when.day).days // step + 1
        elif repeat.boundsDuration is not None and repeat.boundsDuration.value is not None:
            unit = repeat.boundsDuration.code or repeat.boundsDuration.unit or "d"
            length = repeat.boundsDuration.value * _PERIOD_DAYS.get(unit, 1)
            count = max(1, int(length) // step)
        if count is None:
            self.problem(
                "warning",
                label,
                f"{where}.repeat",
                f"{name}: repeat has no count or end: read as one dose on day {first}",
            )
            count = 1
        if count > MAX_DAY:
            self.problem(
                "error", label, f"{where}.repeat", f"{name}: {count} days is too long: not checked"
            )
            return None
        return [first + i * step for i in range(count)], per_day

    # ------------------------------------------------------------------ the set

    def _extension_values(self, requests: list[_Read], name: str) -> set[str]:
        url = f"{self.table.base_url}/StructureDefinition/{name}"
        values = set()
        for read in requests:
            for ext in read.request.extension:
                if ext.url == url and (ext.valueCode or ext.valueString):
                    values.add(ext.valueCode or ext.valueString or "")
        return values

    def _phase(self, requests: list[_Read], given: Phase | str | None) -> Phase | None:
        if given is not None:
            return Phase(given)
        values = self._extension_values(requests, "treatment-phase")
        phases = [p for p in Phase if p.value in values]
        if len(values) > 1 or (values and not phases):
            self.problem(
                "warning",
                "Bundle",
                "MedicationRequest.extension",
                f"orders name different or unknown phases ({', '.join(sorted(values))}): the "
                "phase is unknown",
            )
            return None
        return phases[0] if phases else None

    def _regimen(self, requests: list[_Read]) -> str | None:
        values = self._extension_values(requests, "regimen")
        if len(values) == 1:
            regimen = next(iter(values))
            if regimen in self.pack.regimens:
                return regimen
        return None
