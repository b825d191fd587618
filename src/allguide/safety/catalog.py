"""The order-check rule catalog: every rule, its codes, its statement and its numbers.

`content check` fails when a statement, threshold or drug named here is missing, and
docs/order-checks.md is generated from this table, so neither can drift from the code.
Each rule is implemented by one function in `allguide.safety.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["critical", "warning", "info"]
SEVERITY_RANK: dict[Severity, int] = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class OrderRule:
    """One order check. `severity` is the highest severity the rule can report."""

    id: str
    code: str
    severity: Severity
    statement: str
    title: str
    fires_when: str
    other_codes: tuple[tuple[str, Severity], ...] = ()
    uses: tuple[str, ...] = ()  # patient fields read
    thresholds: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()  # drug ids the rule looks up by id

    @property
    def codes(self) -> tuple[tuple[str, Severity], ...]:
        return ((self.code, self.severity), *self.other_codes)


_RULES = (
    OrderRule(
        id="route.vinca_iv_only",
        code="VINCA_NOT_IV",
        severity="critical",
        statement="stmt.order_safety.vinca_route",
        title="Vinca alkaloid by a route other than intravenous",
        fires_when="a vinca alkaloid (vincristine) is ordered by any route other than iv",
    ),
    OrderRule(
        id="route.never",
        code="ROUTE_NEVER",
        severity="critical",
        statement="stmt.order_safety.never_route",
        title="Route the drug must never be given by",
        fires_when="the route is one of the drug's never_routes (e.g. leucovorin intrathecal)",
    ),
    OrderRule(
        id="route.not_listed",
        code="ROUTE_NOT_LISTED",
        severity="warning",
        statement="stmt.order_safety.route_not_listed",
        title="Route not listed for the drug",
        fires_when="the route is not among the drug's routes in content/drugs.yaml",
    ),
    OrderRule(
        id="dose.above_cap",
        code="DOSE_ABOVE_CAP",
        severity="critical",
        statement="stmt.order_safety.dose_cap",
        title="Dose above a per-dose cap",
        fires_when=(
            "the dose exceeds the drug's hard limit (e.g. vincristine 2 mg) or the cap of the "
            "matching regimen line"
        ),
        other_codes=(("DOSE_CAP_NOT_CHECKED", "info"),),
    ),
    OrderRule(
        id="dose.deviation",
        code="DOSE_DEVIATION",
        severity="warning",
        statement="stmt.order_safety.dose_deviation",
        title="Dose differs from the regimen's computed dose",
        fires_when=(
            "the dose differs from the dose computed for this patient by the matching line of "
            "the preferred (or named) regimen by more than the tolerance"
        ),
        other_codes=(("DOSE_DEVIATION_NOT_CHECKED", "info"),),
        uses=("height_cm", "weight_kg", "age"),
        thresholds=("order.dose_deviation_fraction",),
    ),
    OrderRule(
        id="cns.induction_prophylaxis",
        code="INDUCTION_WITHOUT_CNS_PROPHYLAXIS",
        severity="warning",
        statement="stmt.order_safety.cns_prophylaxis",
        title="Induction without CNS prophylaxis",
        fires_when="an induction order set has no intrathecal or intraventricular order",
        other_codes=(("ORDER_PHASE_UNKNOWN", "info"),),
    ),
    OrderRule(
        id="ph.tki",
        code="PH_POSITIVE_WITHOUT_TKI",
        severity="warning",
        statement="stmt.order_safety.ph_tki",
        title="Ph-positive without a TKI",
        fires_when=(
            "BCR::ABL1 is positive and neither the order set nor the current medicines contain a "
            "BCR::ABL1 TKI (induction, CNS, consolidation or maintenance orders)"
        ),
        other_codes=(("PH_STATUS_UNKNOWN", "info"),),
        uses=("bcr_abl1", "current_medications"),
    ),
    OrderRule(
        id="anthracycline.lvef",
        code="ANTHRACYCLINE_WITHOUT_LVEF",
        severity="warning",
        statement="stmt.order_safety.anthracycline_lvef",
        title="Anthracycline without a documented LVEF",
        fires_when="an anthracycline is ordered and lvef_percent is not documented",
        other_codes=(("ANTHRACYCLINE_LVEF_NOT_CHECKED", "info"),),
        uses=("lvef_percent",),
    ),
    OrderRule(
        id="anthracycline.cumulative",
        code="ANTHRACYCLINE_CUMULATIVE_LIMIT",
        severity="critical",
        statement="stmt.order_safety.anthracycline_cumulative",
        title="Cumulative anthracycline dose",
        fires_when=(
            "prior doxorubicin-equivalent exposure plus this order set is above the limit "
            "(critical) or at or above the review level (warning)"
        ),
        other_codes=(
            ("ANTHRACYCLINE_CUMULATIVE_HIGH", "warning"),
            ("ANTHRACYCLINE_CUMULATIVE_NOT_CHECKED", "info"),
        ),
        uses=("prior_anthracycline_mg_m2", "height_cm", "weight_kg"),
        thresholds=("anthracycline.dox_eq_review_mg_m2", "anthracycline.dox_eq_limit_mg_m2"),
    ),
    OrderRule(
        id="asparaginase.prior_reaction",
        code="ASPARAGINASE_PRIOR_REACTION",
        severity="critical",
        statement="stmt.order_safety.asparaginase_reaction",
        title="Asparaginase of a kind the patient reacted to",
        fires_when=(
            "the ordered asparaginase is one the patient reacted to, or is E. coli-derived "
            "after a reaction to an E. coli-derived product"
        ),
        uses=("asparaginase_hypersensitivity", "asparaginase_reactions"),
    ),
    OrderRule(
        id="rasburicase.g6pd",
        code="RASBURICASE_G6PD_DEFICIENCY",
        severity="critical",
        statement="stmt.order_safety.rasburicase_g6pd",
        title="Rasburicase and G6PD deficiency",
        fires_when="rasburicase is ordered for a patient with G6PD deficiency (or unknown status)",
        other_codes=(("RASBURICASE_G6PD_UNKNOWN", "warning"),),
        uses=("g6pd_deficiency",),
        drugs=("rasburicase",),
    ),
    OrderRule(
        id="interaction.azole_vinca",
        code="AZOLE_WITH_VINCA",
        severity="warning",
        statement="stmt.order_safety.azole_vinca",
        title="Azole antifungal with vincristine",
        fires_when=(
            "a vinca alkaloid is ordered with a strong CYP3A4-inhibiting azole in the order set "
            "or current medicines (info for other azoles such as fluconazole)"
        ),
        other_codes=(("AZOLE_WITH_VINCA_MODERATE", "info"),),
        uses=("current_medications",),
    ),
    OrderRule(
        id="hdmtx.renal",
        code="HDMTX_RENAL_FUNCTION_UNKNOWN",
        severity="warning",
        statement="stmt.order_safety.hdmtx_renal",
        title="High-dose methotrexate and kidney function",
        fires_when=(
            "IV methotrexate above the high-dose threshold per m² is ordered and creatinine "
            "clearance is not documented (info with the value when it is)"
        ),
        other_codes=(
            ("HDMTX_RENAL_FUNCTION_REVIEW", "info"),
            ("HDMTX_NOT_CHECKED", "info"),
        ),
        uses=("creatinine_clearance_ml_min", "height_cm", "weight_kg"),
        thresholds=("methotrexate.high_dose_mg_m2",),
        drugs=("methotrexate",),
    ),
    OrderRule(
        id="hdmtx.nsaid",
        code="HDMTX_WITH_NSAID",
        severity="critical",
        statement="stmt.order_safety.hdmtx_interactions",
        title="High-dose methotrexate with an NSAID",
        fires_when="high-dose methotrexate is ordered with an NSAID in the orders or medicines",
        uses=("current_medications",),
        thresholds=("methotrexate.high_dose_mg_m2",),
        drugs=("methotrexate",),
    ),
    OrderRule(
        id="hdmtx.clearance_interaction",
        code="HDMTX_WITH_INTERACTING_DRUG",
        severity="warning",
        statement="stmt.order_safety.hdmtx_interactions",
        title="High-dose methotrexate with a proton-pump inhibitor or co-trimoxazole",
        fires_when=(
            "high-dose methotrexate is ordered with a proton-pump inhibitor or a "
            "trimethoprim-containing antibacterial in the orders or medicines"
        ),
        uses=("current_medications",),
        thresholds=("methotrexate.high_dose_mg_m2",),
        drugs=("methotrexate",),
    ),
    OrderRule(
        id="thiopurine.genotype",
        code="THIOPURINE_POOR_METABOLISER_DOSE",
        severity="critical",
        statement="stmt.order_safety.thiopurine_genotype",
        title="Mercaptopurine dose and TPMT/NUDT15 status",
        fires_when=(
            "mercaptopurine is ordered above the CPIC fraction of the full dose for a poor "
            "(critical) or intermediate (warning) TPMT/NUDT15 metaboliser"
        ),
        other_codes=(
            ("THIOPURINE_INTERMEDIATE_METABOLISER_DOSE", "warning"),
            ("THIOPURINE_GENOTYPE_NOT_CHECKED", "info"),
        ),
        uses=("tpmt", "nudt15", "height_cm", "weight_kg"),
        thresholds=("thiopurine.poor_max_fraction", "thiopurine.intermediate_max_fraction"),
        drugs=("mercaptopurine",),
    ),
    OrderRule(
        id="dexamethasone.high_dose",
        code="DEXAMETHASONE_HIGH_DOSE",
        severity="warning",
        statement="stmt.order_safety.dexamethasone_high_dose",
        title="High-dose dexamethasone",
        fires_when=(
            "an infant, child or AYA patient is ordered dexamethasone above the daily dose per m² "
            "threshold"
        ),
        other_codes=(("DEXAMETHASONE_DOSE_NOT_CHECKED", "info"),),
        uses=("age", "height_cm", "weight_kg"),
        thresholds=("dexamethasone.high_dose_mg_m2_day",),
        drugs=("dexamethasone",),
    ),
    OrderRule(
        id="input.unrecognised",
        code="MEDICINE_NOT_RECOGNISED",
        severity="info",
        statement="stmt.order_safety.medication_list",
        title="Medicine the checks do not recognise",
        fires_when=(
            "a current medicine, asparaginase reaction or order names a drug that is not in the "
            "content pack (its interactions are not checked)"
        ),
        uses=("current_medications", "asparaginase_reactions"),
    ),
)

ORDER_RULES: dict[str, OrderRule] = {rule.id: rule for rule in _RULES}


def requirements() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(statements, thresholds, drugs) the order checks need from the content pack."""
    statements = frozenset(r.statement for r in _RULES)
    thresholds = frozenset(t for r in _RULES for t in r.thresholds)
    drugs = frozenset(d for r in _RULES for d in r.drugs)
    return statements, thresholds, drugs
