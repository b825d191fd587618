"""The order-check rules: one small function per rule in `catalog.ORDER_RULES`.

Each function reads the `CheckContext` and yields findings. Numbers come from the content
pack (thresholds, drug limits, regimen lines), never from this module. When a rule needs
data that is missing, it says the check could not run (an info finding) instead of
staying silent, but only when the rule is relevant to the orders at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

from allguide.knowledge.schemas import DrugGroup, Phase, Route
from allguide.safety.context import INTRATHECAL_ROUTES, CheckContext, Placed, amount_in, fmt
from allguide.safety.result import Finding

RuleFunction = Callable[[CheckContext], Iterator[Finding]]
RULE_FUNCTIONS: dict[str, RuleFunction] = {}

TKI_PHASES = frozenset({Phase.induction, Phase.cns, Phase.consolidation, Phase.maintenance})
PEDIATRIC_STYLE_POPULATIONS = frozenset({"infant", "child", "aya"})


def rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    def register(fn: RuleFunction) -> RuleFunction:
        RULE_FUNCTIONS[rule_id] = fn
        return fn

    return register


def _mg_per_m2(ctx: CheckContext, placed: Placed, amount: Decimal) -> Decimal | None:
    mg = amount_in(amount, placed.order.dose.unit, "mg")
    bsa = ctx.bsa
    return None if mg is None or bsa is None else mg / bsa


# --------------------------------------------------------------------------- routes


@rule("route.vinca_iv_only")
def vinca_route(ctx: CheckContext) -> Iterator[Finding]:
    for p in ctx.orders_in(DrugGroup.vinca_alkaloid):
        if p.order.route != Route.iv:
            yield ctx.finding(
                "route.vinca_iv_only",
                "critical",
                f"{p.label()}: {p.order.drug} must be given intravenously only (minibag); "
                f"by the {p.order.route.value} route it is fatal or causes severe harm.",
                order_index=p.index,
                suggestion=ctx.suggest(p, route=Route.iv.value),
            )


@rule("route.never")
def never_route(ctx: CheckContext) -> Iterator[Finding]:
    for p in ctx.placed:
        if p.drug is None or DrugGroup.vinca_alkaloid in p.drug.groups:
            continue  # vinca alkaloids have their own, more specific rule
        for restriction in p.drug.never_routes:
            if restriction.route == p.order.route:
                only = p.drug.routes[0].value if len(p.drug.routes) == 1 else None
                yield ctx.finding(
                    "route.never",
                    "critical",
                    f"{p.label()}: {p.drug.name} must never be given by the "
                    f"{p.order.route.value} route. {restriction.reason}",
                    order_index=p.index,
                    suggestion=ctx.suggest(p, route=only) if only else None,
                    extra_citations=restriction.citations,
                )


@rule("route.not_listed")
def route_not_listed(ctx: CheckContext) -> Iterator[Finding]:
    for p in ctx.placed:
        if p.drug is None or p.order.route in p.drug.routes:
            continue
        if any(r.route == p.order.route for r in p.drug.never_routes):
            continue  # reported as critical by route.never / route.vinca_iv_only
        allowed = ", ".join(r.value for r in p.drug.routes)
        yield ctx.finding(
            "route.not_listed",
            "warning",
            f"{p.label()}: the {p.order.route.value} route is not listed for {p.drug.name} "
            f"(listed: {allowed}); check the route against the label and protocol.",
            order_index=p.index,
            extra_citations=p.drug.citations,
        )


# --------------------------------------------------------------------------- doses


def _cap_finding(ctx: CheckContext, p: Placed) -> Finding | None:
    """A dose above the drug's hard limit, else above the matching regimen line's cap."""
    if p.drug is not None:
        for limit in p.drug.limits:
            cap = limit.max_single_dose
            ordered = amount_in(p.order.dose.amount, p.order.dose.unit, cap.unit.value)
            if ordered is None:
                return ctx.finding(
                    "dose.above_cap",
                    "info",
                    f"{p.label()}: the dose is in {p.order.dose.unit} but {p.drug.name}'s "
                    f"per-dose limit is in {cap.unit.value}; the cap could not be checked.",
                    code="DOSE_CAP_NOT_CHECKED",
                    order_index=p.index,
                    extra_citations=limit.citations,
                )
            if ordered > cap.amount:
                return ctx.finding(
                    "dose.above_cap",
                    "critical",
                    f"{p.label()}: {fmt(ordered)} {cap.unit.value} is above the "
                    f"{fmt(cap.amount)} {cap.unit.value} per-dose limit of {p.drug.name}. "
                    f"{limit.reason}",
                    order_index=p.index,
                    suggestion=ctx.suggest(p, amount=cap.amount, unit=cap.unit.value),
                    extra_citations=limit.citations,
                )
    match = ctx.line_for(p) if ctx.patient is not None else None
    if match is None or isinstance(match, str) or match.line.cap is None:
        return None
    line, cap_q = match.line, match.line.cap
    per_day = line.per == "day"
    amount = p.order.daily_amount if per_day else p.order.dose.amount
    ordered = amount_in(amount, p.order.dose.unit, cap_q.unit)
    if ordered is None or cap_q.amount is None or ordered <= cap_q.amount:
        return None
    per = " per day" if per_day else " per dose"
    return ctx.finding(
        "dose.above_cap",
        "critical",
        f"{p.label()}: {fmt(ordered)} {cap_q.unit}{per} is above the cap of "
        f"{fmt(cap_q.amount)} {cap_q.unit}{per} in {match.regimen_id}.",
        order_index=p.index,
        suggestion=ctx.suggest(
            p,
            amount=cap_q.amount / p.order.per_day if per_day else cap_q.amount,
            unit=cap_q.unit,
        ),
        extra_citations=line.citations,
    )


@rule("dose.above_cap")
def dose_above_cap(ctx: CheckContext) -> Iterator[Finding]:
    for p in ctx.placed:
        finding = _cap_finding(ctx, p)
        if finding is not None:
            yield finding


@rule("dose.deviation")
def dose_deviation(ctx: CheckContext) -> Iterator[Finding]:
    tolerance = ctx.cutoff("order.dose_deviation_fraction")
    dosed_in_content = {line.drug for r in ctx.pack.regimens.values() for line in r.drugs}
    for p in ctx.placed:
        if p.drug is None or p.order.drug not in dosed_in_content:
            continue  # no regimen in the pack doses this drug: nothing to compare with
        capped = _cap_finding(ctx, p)
        if capped is not None and capped.severity == "critical":
            continue  # the cap finding already asks for a corrected dose
        match = ctx.line_for(p)
        if isinstance(match, str):
            yield _not_checked(ctx, p, match)
            continue
        line = match.line
        if line.dose is None or line.dose.amount is None:
            why = line.not_computed_reason or "the regimen gives no computed dose"
            yield _not_checked(ctx, p, f"{match.regimen_id}: {why}")
            continue
        per_day = line.per == "day"
        ordered_raw = p.order.daily_amount if per_day else p.order.dose.amount
        ordered = amount_in(ordered_raw, p.order.dose.unit, line.dose.unit)
        if ordered is None:
            yield _not_checked(
                ctx,
                p,
                f"the order is in {p.order.dose.unit} but {match.regimen_id} doses "
                f"{p.order.drug} in {line.dose.unit}",
            )
            continue
        computed = line.dose.amount
        deviation = abs(ordered - computed) / computed
        if not ctx.meets("order.dose_deviation_fraction", deviation):
            continue
        per = " per day" if per_day else ""
        direction = "above" if ordered > computed else "below"
        if per_day and line.divided_doses > 1 and line.per_divided_dose is not None:
            suggestion = ctx.suggest(
                p, amount=line.per_divided_dose, unit=line.dose.unit, per_day=line.divided_doses
            )
        else:
            suggestion = ctx.suggest(p, amount=computed, unit=line.dose.unit)
        yield ctx.finding(
            "dose.deviation",
            "warning",
            f"{p.label()}: {fmt(ordered)} {line.dose.unit}{per} is {fmt(deviation * 100, 0)}% "
            f"{direction} the {fmt(computed)} {line.dose.unit}{per} computed for this patient "
            f"from {match.regimen_id} ({line.basis}); the tolerance is "
            f"{fmt(tolerance.value * 100, 0)}%. Confirm the dose, or document the reason for "
            "the change.",
            order_index=p.index,
            suggestion=suggestion,
            extra_citations=line.citations,
        )


def _not_checked(ctx: CheckContext, p: Placed, why: str) -> Finding:
    return ctx.finding(
        "dose.deviation",
        "info",
        f"{p.label()}: the dose could not be compared with a computed dose: {why}.",
        code="DOSE_DEVIATION_NOT_CHECKED",
        order_index=p.index,
    )


# --------------------------------------------------------------------------- order-set content


@rule("cns.induction_prophylaxis")
def cns_prophylaxis(ctx: CheckContext) -> Iterator[Finding]:
    phase = ctx.order_set.phase
    if phase is None:
        yield ctx.finding(
            "cns.induction_prophylaxis",
            "info",
            "The order set gives no phase, so the phase checks (CNS prophylaxis in induction, "
            'TKI in Ph-positive ALL) did not run; add "phase" (e.g. induction).',
            code="ORDER_PHASE_UNKNOWN",
        )
        return
    if phase != Phase.induction:
        return
    # Only a drug allowed into the CSF counts (intrathecal vincristine is no prophylaxis).
    if not any(
        p.order.route.value in INTRATHECAL_ROUTES
        and p.drug is not None
        and p.order.route in p.drug.routes
        for p in ctx.placed
    ):
        yield ctx.finding(
            "cns.induction_prophylaxis",
            "warning",
            "This induction order set has no intrathecal (or intraventricular) drug: CNS "
            "prophylaxis starts in induction. Order it or confirm when it is given.",
        )


@rule("ph.tki")
def ph_tki(ctx: CheckContext) -> Iterator[Finding]:
    phase = ctx.order_set.phase
    if phase not in TKI_PHASES:
        return  # unknown phase is reported by the CNS rule; other phases need no TKI check
    status = ctx.patient.bcr_abl1.value if ctx.patient and ctx.patient.bcr_abl1 else None
    if status is None or status == "unknown":
        yield ctx.finding(
            "ph.tki",
            "info",
            "BCR::ABL1 (Philadelphia chromosome) status is not known, so the check for a "
            "missing TKI did not run; Ph-positive ALL needs a TKI.",
            code="PH_STATUS_UNKNOWN",
        )
        return
    if status != "positive":
        return
    if ctx.others_in(DrugGroup.bcr_abl1_tki):
        return
    yield ctx.finding(
        "ph.tki",
        "warning",
        f"Ph-positive (BCR::ABL1) ALL: this {phase.value} order set and the current medicines "
        "contain no BCR::ABL1 tyrosine kinase inhibitor. Order the TKI or confirm its planned "
        "start day.",
    )


# --------------------------------------------------------------------------- anthracyclines


@rule("anthracycline.lvef")
def anthracycline_lvef(ctx: CheckContext) -> Iterator[Finding]:
    orders = list(ctx.orders_in(DrugGroup.anthracycline))
    if not orders:
        return
    names = ", ".join(sorted({p.order.drug for p in orders}))
    if ctx.patient is None:
        yield ctx.finding(
            "anthracycline.lvef",
            "info",
            f"{names} ordered but no patient data was given: the LVEF check did not run.",
            code="ANTHRACYCLINE_LVEF_NOT_CHECKED",
        )
    elif ctx.patient.lvef_percent is None:
        yield ctx.finding(
            "anthracycline.lvef",
            "warning",
            f"{names} ordered but no LVEF is documented: assess LVEF (echocardiogram or MUGA) "
            "before the anthracycline.",
            order_index=orders[0].index,
        )


@rule("anthracycline.cumulative")
def anthracycline_cumulative(ctx: CheckContext) -> Iterator[Finding]:
    orders = list(ctx.orders_in(DrugGroup.anthracycline))
    if not orders:
        return
    rule_id = "anthracycline.cumulative"
    if ctx.bsa is None:
        why = "no patient data was given" if ctx.patient is None else "height and weight are needed"
        yield ctx.finding(
            rule_id,
            "info",
            f"The cumulative anthracycline dose could not be computed: {why}.",
            code="ANTHRACYCLINE_CUMULATIVE_NOT_CHECKED",
        )
        return
    parts: list[str] = []
    skipped: list[str] = []
    ordered_total = Decimal(0)
    extra: list[str] = []
    for p in orders:
        assert p.drug is not None
        equivalence = p.drug.doxorubicin_equivalence
        per_m2 = _mg_per_m2(ctx, p, p.order.dose.amount * p.order.administrations)
        if equivalence is None or per_m2 is None:
            why = (
                "no sourced doxorubicin equivalence" if equivalence is None else "not in mass units"
            )
            skipped.append(f"{p.label()} ({why})")
            continue
        dox = per_m2 * equivalence.factor
        ordered_total += dox
        extra += equivalence.citations
        factor = "" if equivalence.factor == 1 else f" × {fmt(equivalence.factor)}"
        parts.append(f"{p.order.drug} {fmt(per_m2)} mg/m²{factor} = {fmt(dox)}")
    prior = ctx.patient.prior_anthracycline_mg_m2 if ctx.patient else None
    total = ordered_total + (prior or 0)
    review = ctx.cutoff("anthracycline.dox_eq_review_mg_m2")
    limit = ctx.cutoff("anthracycline.dox_eq_limit_mg_m2")
    prior_text = (
        f"prior {fmt(prior)} mg/m²"
        if prior is not None
        else "prior exposure not documented (counted as 0)"
    )
    summary = f"cumulative doxorubicin-equivalent {fmt(total)} mg/m² = {prior_text}" + (
        f" + this order set ({'; '.join(parts)})" if parts else ""
    )
    skipped_text = f" Not counted: {'; '.join(skipped)}." if skipped else ""
    if ctx.meets("anthracycline.dox_eq_limit_mg_m2", total):
        yield ctx.finding(
            rule_id,
            "critical",
            f"Anthracycline {summary}: above the {fmt(limit.value)} mg/m² limit. Reassess the "
            f"anthracycline with cardiology and the protocol.{skipped_text}",
            extra_citations=extra,
        )
    elif ctx.meets("anthracycline.dox_eq_review_mg_m2", total):
        yield ctx.finding(
            rule_id,
            "warning",
            f"Anthracycline {summary}: at or above {fmt(review.value)} mg/m², where the label "
            f"quantifies cardiomyopathy risk. Review LVEF and cardioprotection.{skipped_text}",
            code="ANTHRACYCLINE_CUMULATIVE_HIGH",
            extra_citations=extra,
        )
    elif prior is None or skipped:
        missing = (
            " Record prior_anthracycline_mg_m2 (0 if none) to complete the check."
            if prior is None
            else ""
        )
        yield ctx.finding(
            rule_id,
            "info",
            f"Anthracycline {summary}, below {fmt(review.value)} mg/m²; the check is "
            f"incomplete.{skipped_text}{missing}",
            code="ANTHRACYCLINE_CUMULATIVE_NOT_CHECKED",
            extra_citations=extra,
        )


# --------------------------------------------------------------------------- patient-specific


@rule("asparaginase.prior_reaction")
def asparaginase_reaction(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.patient is None:
        return
    reacted = {d.id for d in ctx.reacted_to}
    e_coli_reaction = ctx.patient.asparaginase_hypersensitivity is True or any(
        DrugGroup.asparaginase_e_coli in d.groups for d in ctx.reacted_to
    )
    for group in (DrugGroup.asparaginase_e_coli, DrugGroup.asparaginase_erwinia):
        for p in ctx.orders_in(group):
            if p.order.drug in reacted:
                why = f"the patient had a hypersensitivity reaction to {p.order.drug}"
            elif group == DrugGroup.asparaginase_e_coli and e_coli_reaction:
                why = "the patient reacted to an E. coli-derived asparaginase, and this is one"
            else:
                continue
            switch = (
                " Switch to Erwinia asparaginase (asparaginase erwinia (recombinant)) per its "
                "label and the protocol."
                if group == DrugGroup.asparaginase_e_coli
                else ""
            )
            yield ctx.finding(
                "asparaginase.prior_reaction",
                "critical",
                f"{p.label()}: {why}.{switch}",
                order_index=p.index,
            )


@rule("rasburicase.g6pd")
def rasburicase_g6pd(ctx: CheckContext) -> Iterator[Finding]:
    for p in ctx.orders_of("rasburicase"):
        g6pd = ctx.patient.g6pd_deficiency if ctx.patient else None
        if g6pd is True:
            yield ctx.finding(
                "rasburicase.g6pd",
                "critical",
                f"{p.label()}: rasburicase is contraindicated in G6PD deficiency (haemolysis, "
                "methaemoglobinaemia). Use hydration and allopurinol instead.",
                order_index=p.index,
            )
        elif g6pd is None:
            yield ctx.finding(
                "rasburicase.g6pd",
                "warning",
                f"{p.label()}: G6PD status is not documented. Test for G6PD deficiency before "
                "giving rasburicase.",
                code="RASBURICASE_G6PD_UNKNOWN",
                order_index=p.index,
            )


@rule("interaction.azole_vinca")
def azole_vinca(ctx: CheckContext) -> Iterator[Finding]:
    for p in ctx.orders_in(DrugGroup.vinca_alkaloid):
        for other in ctx.others_in(DrugGroup.azole_antifungal, besides=p.index):
            strong = DrugGroup.strong_cyp3a4_inhibitor in other.drug.groups
            yield ctx.finding(
                "interaction.azole_vinca",
                "warning" if strong else "info",
                f"{p.label()} with {other.drug.id} ({other.where}): "
                + (
                    "a strong CYP3A4-inhibiting azole slows vincristine clearance and can cause "
                    "severe neurotoxicity; prefer a non-azole antifungal (e.g. an echinocandin) "
                    "during vincristine phases, or monitor closely."
                    if strong
                    else "a moderate CYP3A4-inhibiting azole; watch for vincristine neurotoxicity."
                ),
                code=None if strong else "AZOLE_WITH_VINCA_MODERATE",
                order_index=p.index,
            )


def _high_dose_mtx(ctx: CheckContext) -> tuple[list[tuple[Placed, Decimal]], list[Placed]]:
    """(high-dose methotrexate orders with their mg/m², IV orders that could not be judged)."""
    high: list[tuple[Placed, Decimal]] = []
    unknown: list[Placed] = []
    for p in ctx.orders_of("methotrexate"):
        if p.order.route != Route.iv:
            continue
        per_m2 = _mg_per_m2(ctx, p, p.order.dose.amount)
        if per_m2 is None:
            unknown.append(p)
        elif ctx.meets("methotrexate.high_dose_mg_m2", per_m2):
            high.append((p, per_m2))
    return high, unknown


@rule("hdmtx.renal")
def hdmtx_renal(ctx: CheckContext) -> Iterator[Finding]:
    high, unknown = _high_dose_mtx(ctx)
    threshold = fmt(ctx.cutoff("methotrexate.high_dose_mg_m2").value)
    for p in unknown:
        why = "no patient data was given" if ctx.patient is None else "height and weight are needed"
        yield ctx.finding(
            "hdmtx.renal",
            "info",
            f"{p.label()}: whether this is high-dose methotrexate (above {threshold} mg/m²) "
            f"could not be judged ({why}), so the kidney and interaction checks did not run.",
            code="HDMTX_NOT_CHECKED",
            order_index=p.index,
        )
    for p, per_m2 in high:
        crcl = ctx.patient.creatinine_clearance_ml_min if ctx.patient else None
        if crcl is None:
            yield ctx.finding(
                "hdmtx.renal",
                "warning",
                f"{p.label()}: high-dose methotrexate ({fmt(per_m2, 0)} mg/m²) with no creatinine "
                "clearance documented. Check kidney function before the course.",
                order_index=p.index,
            )
        else:
            yield ctx.finding(
                "hdmtx.renal",
                "info",
                f"{p.label()}: high-dose methotrexate ({fmt(per_m2, 0)} mg/m²) with creatinine "
                f"clearance {fmt(crcl)} mL/min. allguide holds no verified cut-off: compare it "
                "with the protocol's renal criterion.",
                code="HDMTX_RENAL_FUNCTION_REVIEW",
                order_index=p.index,
            )


@rule("hdmtx.nsaid")
def hdmtx_nsaid(ctx: CheckContext) -> Iterator[Finding]:
    high, _ = _high_dose_mtx(ctx)
    for p, per_m2 in high:
        for other in ctx.others_in(DrugGroup.nsaid, besides=p.index):
            yield ctx.finding(
                "hdmtx.nsaid",
                "critical",
                f"{p.label()}: high-dose methotrexate ({fmt(per_m2, 0)} mg/m²) with the NSAID "
                f"{other.drug.id} ({other.where}). NSAIDs slow methotrexate clearance; deaths "
                "are reported. Stop the NSAID around the course.",
                order_index=p.index,
            )


@rule("hdmtx.clearance_interaction")
def hdmtx_interaction(ctx: CheckContext) -> Iterator[Finding]:
    high, _ = _high_dose_mtx(ctx)
    for p, per_m2 in high:
        others = ctx.others_in(DrugGroup.proton_pump_inhibitor, besides=p.index) + ctx.others_in(
            DrugGroup.antifolate_antibacterial, besides=p.index
        )
        for other in others:
            kind = (
                "a proton-pump inhibitor"
                if DrugGroup.proton_pump_inhibitor in other.drug.groups
                else "a trimethoprim-sulfonamide antibacterial"
            )
            yield ctx.finding(
                "hdmtx.clearance_interaction",
                "warning",
                f"{p.label()}: high-dose methotrexate ({fmt(per_m2, 0)} mg/m²) with {other.drug.id}"
                f" ({other.where}), {kind} that can raise and prolong methotrexate levels or add "
                "toxicity. Hold or replace it around the course as the protocol directs.",
                order_index=p.index,
            )


@rule("thiopurine.genotype")
def thiopurine_genotype(ctx: CheckContext) -> Iterator[Finding]:
    orders = list(ctx.orders_of("mercaptopurine"))
    if not orders:
        return
    rule_id = "thiopurine.genotype"
    patient = ctx.patient
    genes = {
        "TPMT": patient.tpmt if patient else None,
        "NUDT15": patient.nudt15 if patient else None,
    }
    poor = [g for g, v in genes.items() if v is not None and v.value == "poor"]
    intermediate = [g for g, v in genes.items() if v is not None and v.value == "intermediate"]
    unknown = [g for g, v in genes.items() if v is None]
    if not poor and not intermediate:
        if unknown:
            for p in orders:
                yield ctx.finding(
                    rule_id,
                    "info",
                    f"{p.label()}: {' and '.join(unknown)} status unknown, so the dose was not "
                    "checked against metaboliser status; genotype before dosing per CPIC.",
                    code="THIOPURINE_GENOTYPE_NOT_CHECKED",
                    order_index=p.index,
                )
        return
    status = " and ".join(poor) + " poor" if poor else " and ".join(intermediate) + " intermediate"
    fraction_id = "thiopurine.poor_max_fraction" if poor else "thiopurine.intermediate_max_fraction"
    fraction = ctx.cutoff(fraction_id).value
    for p in orders:
        match = ctx.line_for(p)
        ordered = amount_in(p.order.daily_amount, p.order.dose.unit, "mg")
        full_mg: Decimal | None = None
        why = match if isinstance(match, str) else "no computed full daily dose"
        dose = None if isinstance(match, str) or match.line.per != "day" else match.line.dose
        if dose is not None and dose.amount is not None:
            full_mg = amount_in(dose.amount, dose.unit, "mg")
        if full_mg is None or ordered is None or isinstance(match, str):
            yield ctx.finding(
                rule_id,
                "warning" if poor else "info",
                f"{p.label()}: {status} metaboliser, but the ordered dose could not be compared "
                f"with the full dose ({why}). CPIC: "
                + (
                    "about one-tenth of the daily dose, 3 times a week."
                    if poor
                    else f"start at no more than {fmt(fraction * 100, 0)}% of the full dose."
                ),
                code=None if poor else "THIOPURINE_GENOTYPE_NOT_CHECKED",
                order_index=p.index,
            )
            continue
        ratio = ordered / full_mg
        if not ctx.meets(fraction_id, ratio):
            continue
        yield ctx.finding(
            rule_id,
            "critical" if poor else "warning",
            f"{p.label()}: {status} metaboliser, but {fmt(ordered)} mg/day is "
            f"{fmt(ratio * 100, 0)}% of the full {fmt(full_mg)} mg/day ({match.regimen_id}). "
            "CPIC: "
            + (
                "give about one-tenth of the daily dose, 3 times a week, and adjust to counts."
                if poor
                else f"start at no more than {fmt(fraction * 100, 0)}% of the full dose."
            ),
            code=None if poor else "THIOPURINE_INTERMEDIATE_METABOLISER_DOSE",
            order_index=p.index,
        )


@rule("dexamethasone.high_dose")
def dexamethasone_high_dose(ctx: CheckContext) -> Iterator[Finding]:
    orders = list(ctx.orders_of("dexamethasone"))
    if not orders:
        return
    threshold = ctx.cutoff("dexamethasone.high_dose_mg_m2_day")
    plan = ctx.plan
    if plan is not None and plan.population not in PEDIATRIC_STYLE_POPULATIONS:
        return  # adult regimens (e.g. Hyper-CVAD 40 mg flat) are outside this check
    for p in orders:
        per_m2_day = _mg_per_m2(ctx, p, p.order.daily_amount)
        if per_m2_day is None:
            why = (
                "no patient data was given"
                if ctx.patient is None
                else "height and weight are needed"
                if ctx.bsa is None
                else "the dose is not in mass units"
            )
            yield ctx.finding(
                "dexamethasone.high_dose",
                "info",
                f"{p.label()}: the daily dexamethasone dose per m² could not be checked ({why}).",
                code="DEXAMETHASONE_DOSE_NOT_CHECKED",
                order_index=p.index,
            )
            continue
        if ctx.meets("dexamethasone.high_dose_mg_m2_day", per_m2_day):
            yield ctx.finding(
                "dexamethasone.high_dose",
                "warning",
                f"{p.label()}: {fmt(per_m2_day, 1)} mg/m²/day of dexamethasone is above "
                f"{fmt(threshold.value)} mg/m²/day, the highest daily dose in the pediatric "
                "schedules; confirm the schedule against the protocol (infection, osteonecrosis).",
                order_index=p.index,
            )


@rule("input.unrecognised")
def unrecognised(ctx: CheckContext) -> Iterator[Finding]:
    for field_name, name in ctx.unrecognised:
        yield ctx.finding(
            "input.unrecognised",
            "info",
            f"{field_name}: '{name}' is not a drug allguide knows, so its interactions were "
            "not checked. Use the drug's international name.",
        )
    for p in ctx.placed:
        if p.drug is None:
            yield ctx.finding(
                "input.unrecognised",
                "info",
                f"{p.label()}: '{p.order.drug}' is not in the content pack; only general checks "
                "could run.",
                order_index=p.index,
            )
