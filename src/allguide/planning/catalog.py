"""Rule catalog: every rule the engine can fire, the statement it serves, and when.

`content check` fails when a statement, regimen or threshold named here is missing from
the content pack, and docs/rules.md is generated from this table, so neither can drift.
"""

from __future__ import annotations

from typing import NamedTuple


class Rule(NamedTuple):
    statement: str
    when: str


RULES: dict[str, Rule] = {
    # overview
    "overview.backbone": Rule("stmt.overview.backbone", "every plan"),
    "overview.risk_adapted": Rule("stmt.overview.risk_adapted", "every plan"),
    "overview.trials": Rule("stmt.trials.offer", "every plan"),
    # prephase
    "prephase.adult_steroid": Rule("stmt.prephase.steroid_prephase", "AYA, adult and older adult"),
    "prephase.prednisone_window": Rule(
        "stmt.risk.prednisone_response", "children on a BFM backbone (prednisone window)"
    ),
    "prephase.hyperleukocytosis": Rule(
        "stmt.prephase.hyperleukocytosis", "WBC above the hyperleukocytosis threshold"
    ),
    "prephase.leukapheresis": Rule(
        "stmt.prephase.leukapheresis", "WBC above the leukostasis threshold"
    ),
    "prephase.transfusion_high_wbc": Rule(
        "stmt.prephase.transfusion_high_wbc", "WBC above the hyperleukocytosis threshold"
    ),
    # induction
    "induction.pediatric_sr": Rule("stmt.induction.pediatric_sr_3drug", "child, B-ALL, NCI SR"),
    "induction.pediatric_hr": Rule("stmt.induction.pediatric_hr_4drug", "child, B-ALL, NCI HR"),
    "induction.bfm": Rule("stmt.induction.bfm_4drug", "child, BFM alternative offered"),
    "induction.t_all": Rule("stmt.induction.t_all", "child or AYA with T-ALL"),
    "induction.infant": Rule("stmt.induction.infant", "infant"),
    "induction.aya": Rule("stmt.induction.aya_pediatric_inspired", "AYA, Ph-negative"),
    "induction.adult_ph_negative": Rule(
        "stmt.induction.adult_ph_negative", "adult or AYA, Ph-negative, fit or fitness unknown"
    ),
    "induction.hyper_cvad": Rule("stmt.induction.hyper_cvad", "Hyper-CVAD is an option"),
    "induction.rituximab": Rule(
        "stmt.induction.rituximab_cd20", "adult B-ALL with CD20 at or above the threshold"
    ),
    "induction.older_low": Rule("stmt.induction.older_low_intensity", "older or unfit adult"),
    "induction.older_moderate": Rule(
        "stmt.induction.older_moderate_intensity", "older adult, or fitness unknown"
    ),
    "induction.older_inotuzumab": Rule(
        "stmt.induction.older_inotuzumab", "older or unfit adult, B-lineage, Ph-negative"
    ),
    "induction.fitness_not_age": Rule(
        "stmt.induction.fitness_not_age", "adult 40 or older (intensity decision)"
    ),
    "induction.down_syndrome": Rule("stmt.induction.down_syndrome", "Down syndrome"),
    # steroid
    "steroid.dex_vs_pred": Rule("stmt.steroid.dex_vs_pred", "every plan with induction steroid"),
    "steroid.sr_schedule": Rule("stmt.steroid.sr_schedule", "child, NCI SR B-ALL"),
    "steroid.age_based_hr": Rule("stmt.steroid.age_based_hr", "child, NCI HR B-ALL"),
    "steroid.toxicity_age10": Rule(
        "stmt.steroid.dex_toxicity", "age at or above the dexamethasone-benefit limit"
    ),
    "steroid.t_all": Rule("stmt.steroid.t_all", "T-ALL"),
    "steroid.adults": Rule("stmt.steroid.adults", "adults"),
    # asparaginase
    "asparaginase.pegaspargase": Rule(
        "stmt.asparaginase.pegaspargase", "asparaginase-containing induction, no hypersensitivity"
    ),
    "asparaginase.erwinia_switch": Rule(
        "stmt.asparaginase.erwinia_switch", "asparaginase hypersensitivity reported"
    ),
    "asparaginase.silent_inactivation": Rule(
        "stmt.asparaginase.silent_inactivation", "asparaginase-containing induction"
    ),
    "asparaginase.adult_dosing": Rule(
        "stmt.asparaginase.adult_dosing", "adult on an asparaginase-containing regimen"
    ),
    "asparaginase.toxicity": Rule(
        "stmt.asparaginase.toxicity", "asparaginase-containing induction"
    ),
    # CNS
    "cns.prophylaxis_all": Rule("stmt.cns.prophylaxis_all", "every plan"),
    "cns.it_routes": Rule("stmt.cns.it_routes", "every plan"),
    "cns.it_age_dosing": Rule("stmt.cns.it_age_dosing", "children and infants"),
    "cns.adult_it": Rule("stmt.cns.adult_it", "adults"),
    "cns.cns2_cns3": Rule("stmt.cns.cns2_cns3", "CNS2 or CNS3, or CNS status unknown"),
    "cns.cranial_rt": Rule("stmt.cns.cranial_rt", "CNS3, or T-ALL"),
    "cns.hdmtx": Rule("stmt.cns.hdmtx", "every plan (systemic CNS-directed therapy)"),
    "cns.testicular": Rule("stmt.cns.testicular", "testicular involvement"),
    "cns.it_safe_drugs": Rule("stmt.cns.it_safe_drugs_only", "every plan"),
    "cns.ommaya": Rule("stmt.cns.ommaya_dose", "every plan (route alternative)"),
    # Ph+ and TKI
    "ph.tki_always": Rule("stmt.ph.tki_always", "Ph-positive"),
    "ph.pediatric": Rule("stmt.ph.pediatric_tki", "Ph-positive child"),
    "ph.adult_fit": Rule("stmt.ph.adult_fit", "Ph-positive adult, fit or fitness unknown"),
    "ph.older_unfit": Rule("stmt.ph.older_unfit", "Ph-positive older or unfit adult"),
    "ph.chemo_free": Rule("stmt.ph.chemo_free", "Ph-positive adult"),
    "ph.t315i": Rule("stmt.ph.t315i_ponatinib", "ABL1 T315I mutation"),
    "ph.interactions": Rule("stmt.ph.tki_interactions", "Ph-positive"),
    "ph.unknown_status": Rule("stmt.ph.tki_always", "BCR::ABL1 status unknown"),
    "ph.ph_like": Rule("stmt.ph.ph_like_tki", "Ph-like or ABL-class genetics"),
    # supportive care
    "supportive.tls_risk": Rule("stmt.supportive.tls_risk", "every plan"),
    "supportive.tls_prophylaxis": Rule("stmt.supportive.tls_prophylaxis", "every plan"),
    "supportive.rasburicase_g6pd": Rule(
        "stmt.supportive.rasburicase_g6pd", "rasburicase considered"
    ),
    "supportive.pjp": Rule("stmt.supportive.pjp", "every plan"),
    "supportive.antifungal": Rule("stmt.supportive.antifungal", "every plan"),
    "supportive.azole_vincristine": Rule(
        "stmt.supportive.azole_vincristine", "vincristine-containing induction"
    ),
    "supportive.antibacterial": Rule("stmt.supportive.antibacterial", "every plan"),
    "supportive.antiviral": Rule("stmt.supportive.antiviral", "every plan"),
    "supportive.hbv": Rule("stmt.supportive.hbv", "every plan"),
    "supportive.growth_factors": Rule("stmt.supportive.growth_factors", "every plan"),
    "supportive.platelets": Rule("stmt.supportive.platelets", "every plan"),
    "supportive.red_cells": Rule("stmt.supportive.red_cells", "every plan"),
    "supportive.irradiated": Rule("stmt.supportive.irradiated_products", "every plan"),
    "supportive.central_line": Rule("stmt.supportive.central_line", "every plan"),
    "supportive.anthracycline_cardiac": Rule(
        "stmt.supportive.anthracycline_cardiac", "anthracycline in the preferred induction"
    ),
    # consolidation
    "consolidation.purpose": Rule("stmt.consolidation.purpose", "every plan"),
    "consolidation.pediatric_sr": Rule("stmt.consolidation.pediatric_sr", "child, NCI SR B-ALL"),
    "consolidation.pediatric_hr": Rule(
        "stmt.consolidation.pediatric_hr", "child, NCI HR B-ALL or T-ALL"
    ),
    "consolidation.interim_maintenance": Rule("stmt.consolidation.interim_maintenance", "children"),
    "consolidation.delayed_intensification": Rule(
        "stmt.consolidation.delayed_intensification", "children"
    ),
    "consolidation.nelarabine": Rule("stmt.consolidation.nelarabine_t_all", "T-ALL"),
    "consolidation.blina_pediatric": Rule(
        "stmt.consolidation.blinatumomab_pediatric", "child, NCI SR B-ALL, Ph-negative"
    ),
    "consolidation.blina_adult_mrd_neg": Rule(
        "stmt.consolidation.blinatumomab_adult_mrd_negative", "adult B-ALL, Ph-negative"
    ),
    "consolidation.blina_mrd_pos": Rule(
        "stmt.consolidation.blinatumomab_mrd_positive", "B-ALL with MRD at or above label cut-off"
    ),
    "consolidation.adult_hdmtx": Rule(
        "stmt.consolidation.adult_hdmtx_cytarabine", "adults on Hyper-CVAD"
    ),
    # maintenance
    "maintenance.backbone": Rule("stmt.maintenance.backbone", "every plan"),
    "maintenance.duration": Rule("stmt.maintenance.duration", "every plan"),
    "maintenance.pulses": Rule("stmt.maintenance.pulses", "children"),
    "maintenance.tpmt_nudt15": Rule("stmt.maintenance.tpmt_nudt15", "every plan"),
    "maintenance.adherence": Rule("stmt.maintenance.adherence", "every plan"),
    "maintenance.adult": Rule("stmt.maintenance.adult", "adults"),
    "maintenance.allopurinol": Rule("stmt.supportive.thiopurine_allopurinol", "every plan"),
    # MRD
    "mrd.end_of_induction": Rule("stmt.mrd.end_of_induction", "every plan"),
    "mrd.pediatric": Rule("stmt.mrd.pediatric_timepoints", "children"),
    "mrd.adult": Rule("stmt.mrd.adult_timepoints", "adults"),
    "mrd.t_all": Rule("stmt.mrd.t_all", "T-ALL"),
    "mrd.methods": Rule("stmt.mrd.methods", "every plan"),
    # transplant
    "transplant.induction_failure": Rule("stmt.transplant.induction_failure", "induction failure"),
    "transplant.persistent_mrd": Rule(
        "stmt.transplant.persistent_mrd", "MRD positive after induction or consolidation"
    ),
    "transplant.cr2": Rule("stmt.transplant.cr2", "second remission"),
    "transplant.cr3": Rule("stmt.transplant.cr3", "third remission"),
    "transplant.adult_high_risk": Rule(
        "stmt.transplant.adult_high_risk_cr1", "adult, high risk, CR1"
    ),
    "transplant.pediatric_cr1": Rule("stmt.transplant.pediatric_cr1", "child in CR1"),
    "transplant.infant": Rule("stmt.transplant.infant", "infant"),
    "transplant.ph_positive": Rule("stmt.transplant.ph_positive", "Ph-positive"),
    "transplant.hla_typing": Rule(
        "stmt.transplant.hla_typing", "transplant recommended or considered"
    ),
    # pitfalls (alerts)
    "pitfall.cns_delay": Rule("stmt.pitfalls.cns_delay", "every plan"),
    "pitfall.age_alone": Rule("stmt.pitfalls.age_alone", "adult 40 or older"),
    "pitfall.ignore_mrd": Rule("stmt.pitfalls.ignore_mrd", "end-of-induction MRD not yet known"),
    "pitfall.interrupt": Rule("stmt.pitfalls.interrupt_therapy", "every plan"),
    "pitfall.high_dose_dex": Rule(
        "stmt.pitfalls.high_dose_dex", "a high-dose dexamethasone line applies"
    ),
    "pitfall.omit_tki": Rule("stmt.pitfalls.omit_tki", "Ph-positive"),
    "pitfall.vincristine_route": Rule(
        "stmt.pitfalls.vincristine_route", "vincristine in a plan with intrathecal therapy"
    ),
    "pitfall.rasburicase_g6pd": Rule(
        "stmt.pitfalls.rasburicase_g6pd", "rasburicase considered and G6PD deficient or unknown"
    ),
}

# Regimens the engine offers, by id. Missing ones are content errors.
REGIMENS = frozenset(
    {
        "cog-sr-induction-3drug",
        "cog-hr-induction-4drug",
        "cog-t-all-induction",
        "bfm-protocol-ia",
        "interfant-06-induction",
        "calgb-10403-induction",
        "hyper-cvad-course-a",
        "hyper-cvad-course-b",
        "gmall-prephase",
        "ewall-ino-induction",
        "mini-hcvd-inotuzumab",
        "older-low-intensity",
        "pediatric-ph-dasatinib",
        "pediatric-ph-imatinib",
        "adult-ph-ponatinib",
        "adult-ph-dasatinib",
        "adult-ph-imatinib",
        "ewall-ph01-induction",
        "dalba-dasatinib-blinatumomab",
        "ponatinib-blinatumomab",
        "cog-sr-consolidation",
        "cog-augmented-bfm-consolidation",
        "cog-maintenance",
        "hypercvad-pomp-maintenance",
        "blinatumomab-mrd",
        "tls-prophylaxis-allopurinol",
        "tls-rasburicase",
        "pjp-cotrimoxazole-pediatric",
        "pjp-cotrimoxazole-adult",
    }
)


def required_statements() -> frozenset[str]:
    return frozenset(rule.statement for rule in RULES.values())


# Thresholds the core compares patient values with (tests check this list against the code).
THRESHOLDS = frozenset(
    {
        "age.infant_upper_years",
        "age.nci_high_risk_years",
        "age.aya_lower_years",
        "age.aya_upper_years",
        "age.older_adult_years",
        "age.adult_high_risk_years",
        "age.dex_benefit_upper_years",
        "age.cog_very_high_risk_years",
        "age.interfant_high_risk_months",
        "wbc.nci_high_risk",
        "wbc.adult_b_high_risk",
        "wbc.adult_t_high_risk",
        "wbc.hyperleukocytosis",
        "wbc.tls_high_risk",
        "wbc.interfant_high_risk",
        "wbc.leukostasis_all",
        "mrd.cog_day8_low",
        "mrd.cog_day8_high",
        "mrd.cog_eoi_positive",
        "mrd.t_all_eoi_high",
        "mrd.t_all_eoi_standard",
        "mrd.adult_negative",
        "mrd.adult_hct_benefit",
        "mrd.blinatumomab_indication",
        "mrd.eoc_positive",
        "cd20.rituximab_percent",
        "karyotype.hypodiploid_modal_number",
        "remission.gmall_late_cr_days",
    }
)


def requirements() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(statements, regimens, thresholds) the engine needs from the content pack."""
    return required_statements(), REGIMENS, THRESHOLDS
