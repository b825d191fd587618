"""Plan → text or Markdown for people: alerts first, then risk, doses and phases."""

from __future__ import annotations

from allguide.planning.plan import DrugDose, Plan, RegimenOption
from allguide.render.formatting import PHASE_TITLES, amount_text, day_runs, given_dose
from allguide.render.formatting import number as _n

_SEVERITY = {"critical": "CRITICAL", "warning": "WARNING", "info": "INFO"}


def _dose(d: DrugDose) -> str:
    if d.dose is None and d.not_computed_reason:
        return f"per protocol ({d.not_computed_reason})"
    text = given_dose(d)
    if d.cap_applied and d.cap:
        text += f" [CAPPED at {_n(d.cap.amount)} {d.cap.unit}; computed {_n(d.uncapped_dose)}]"
    return text


class _Out:
    def __init__(self, markdown: bool) -> None:
        self.md = markdown
        self.lines: list[str] = []

    def h(self, level: int, text: str) -> None:
        if self.md:
            self.lines += ["", "#" * level + " " + text, ""]
        else:
            self.lines += [
                "",
                text.upper() if level <= 2 else text,
                ("=" if level == 1 else "-") * len(text),
            ]

    def p(self, text: str) -> None:
        self.lines.append(text)

    def li(self, text: str, indent: int = 0) -> None:
        self.lines.append("  " * indent + ("- " if self.md else "• ") + text)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        if self.md:
            self.lines.append("| " + " | ".join(header) + " |")
            self.lines.append("|" + "---|" * len(header))
            for r in rows:
                self.lines.append("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
            self.lines.append("")
            return
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
        widths = [min(w, 48) for w in widths]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        self.lines.append(fmt.format(*header))
        self.lines.append(fmt.format(*["-" * w for w in widths]))
        for r in rows:
            self.lines.append(fmt.format(*r))


def _option(out: _Out, o: RegimenOption) -> None:
    mark = "PREFERRED" if o.preferred else "alternative"
    out.h(4 if out.md else 3, f"{o.name} [{o.regimen_id}] — {mark}")
    out.p(f"Why: {o.why}. Review status: {o.review_status}.")
    rows = [
        [d.drug, d.route, _dose(d), day_runs(d.days), d.basis or "", d.condition or ""]
        for d in o.drugs
    ]
    out.table(["drug", "route", "dose", "days", "basis", "condition"], rows)
    for line in o.excluded_lines:
        out.li(f"not given: {line}")


def render_plan(plan: Plan, *, markdown: bool = False) -> str:
    out = _Out(markdown)
    out.h(1, "allguide: initial treatment plan for ALL")
    out.p(f"Decision support only. {plan.disclaimer}")
    out.p(
        f"Population: {plan.population}, age {_n(plan.age_years)} y, fitness {plan.fitness}, "
        f"BCR::ABL1 {plan.ph_status}."
    )
    if plan.bsa:
        out.p(
            f"BSA {_n(plan.bsa.value_m2)} m² ({plan.bsa.formula}; height "
            f"{_n(plan.bsa.height_cm)} cm, weight {_n(plan.bsa.weight_kg)} kg)."
        )
    else:
        out.p("BSA not computed: height_cm and weight_kg are needed for m²-based doses.")
    out.p(
        f"Content {plan.content_version} ({plan.review.status}), engine "
        f"{plan.engine_version}, input {plan.input_digest[:19]}."
    )
    out.h(2, "Alerts")
    for a in plan.alerts:
        out.li(f"{_SEVERITY[a.severity]} {a.code}: {a.message}")
    out.h(2, "Risk")
    for r in plan.risk:
        out.li(f"{r.scheme}: {r.group} ({r.status}) — because " + "; ".join(r.because))
        if r.needs:
            out.li("needs: " + ", ".join(r.needs), 1)
    if plan.missing_data:
        out.h(2, "Data still needed")
        for m in plan.missing_data:
            out.li(f"{m.field}: {m.why}")
    t = plan.tki
    out.h(2, "Ph+ / TKI")
    if t.indicated is None:
        out.p("Undetermined: " + "; ".join(t.because))
    elif t.indicated:
        out.p(
            f"Indicated. Preferred: {', '.join(t.preferred)}; alternatives: "
            f"{', '.join(t.alternatives) or 'none'}. " + "; ".join(t.because)
        )
    else:
        out.p("Not indicated (" + "; ".join(t.because) + ").")
    out.h(2, "Transplant")
    out.p(f"{plan.transplant.recommendation}: " + "; ".join(plan.transplant.because))
    for ph in plan.phases:
        out.h(2, PHASE_TITLES[ph.phase])
        for o in ph.regimen_options:
            _option(out, o)
        for rec in ph.recommendations:
            cites = ", ".join(str(_ref_number(plan, c)) for c in rec.citations)
            out.li(f"{rec.title}: {rec.text} [{cites}]")
            out.li(f"why: {rec.rule}; because {'; '.join(rec.because)}", 1)
    out.h(2, "MRD time points")
    for tp in plan.mrd_timepoints:
        result = "pending" if tp.result_percent is None else f"{_n(tp.result_percent)}%"
        out.li(f"{tp.when}: {tp.why} (result: {result})")
    if plan.calendar:
        out.h(2, "Induction calendar")
        rows = []
        for day in plan.calendar:
            for item in day.items:
                rows.append(
                    [
                        str(day.day),
                        str(day.date or ""),
                        item.drug,
                        item.route,
                        amount_text(item.dose),
                        item.note or "",
                    ]
                )
        out.table(["day", "date", "drug", "route", "dose", "note"], rows)
    out.h(2, "References")
    for ref in plan.references:
        out.p(f"[{ref.n}] {ref.citation}" + (f" {ref.url}" if ref.url else ""))
    out.p("")
    out.p(plan.disclaimer)
    return "\n".join(out.lines).lstrip("\n") + "\n"


def _ref_number(plan: Plan, ref_id: str) -> int | str:
    for r in plan.references:
        if r.id == ref_id:
            return r.n
    return ref_id
