"""Build a risk-adapted initial treatment plan from a patient and a content pack.

Pure: no clock, no files, no network. The same patient, content version and start date
always give the same plan. Every recommendation names the rule that fired (see
`catalog.RULES`), the statement it serves, the inputs it used and its citations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Literal

from allguide.dosing.doses import Bsa, mosteller_bsa
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Reference
from allguide.patient.model import MrdTimepoint, PatientInput
from allguide.planning.catalog import RULES
from allguide.planning.plan import (
    Alert,
    BsaOut,
    MissingData,
    MrdTimepointPlan,
    PhaseName,
    PhasePlan,
    Plan,
    Recommendation,
    ReferenceOut,
    RegimenOption,
    ReviewSummary,
    RiskEntry,
    Severity,
    Tki,
    Transplant,
    construct,
)
from allguide.planning.regimens import calendar, contains_drug, regimen_option
from allguide.risk.adult import assess_adult
from allguide.risk.cog import assess_cog_b, assess_cog_t
from allguide.risk.criteria import Trace, fmt
from allguide.risk.interfant import assess_interfant
from allguide.risk.nci import assess_nci, nci_high
from allguide.risk.population import Fitness, Population, fitness_of, is_adult, population_of

ENGINE_VERSION = "0.1.0"

PhStatus = Literal["positive", "negative", "unknown"]
TransplantDecision = Literal["recommend", "consider", "not_indicated", "undetermined"]

DISCLAIMER = (
    "Decision support for qualified health professionals, not a medical order. allguide "
    "summarises published guidelines, trials and drug labels; it does not replace clinical "
    "judgement, the treating protocol or institutional policy. Verify every dose, schedule "
    "and recommendation against the primary sources and the patient's full clinical picture "
    "before use. Content marked draft has not yet been approved by the medical advisory board."
)

PHASE_ORDER: tuple[PhaseName, ...] = (
    "prephase",
    "induction",
    "cns",
    "supportive",
    "consolidation",
    "maintenance",
    "transplant",
)
ANTHRACYCLINES = {"daunorubicin", "doxorubicin", "idarubicin"}
ASPARAGINASES = {"pegaspargase", "calaspargase pegol", "asparaginase"}
INTRATHECAL = {"intrathecal", "intraventricular"}


def input_digest(patient: PatientInput) -> str:
    """SHA-256 of the canonical JSON of the validated input."""
    canonical = json.dumps(
        patient.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def build_plan(
    patient: PatientInput, pack: ContentPack, *, start_date: dt.date | None = None
) -> Plan:
    return _PlanBuilder(patient, pack, start_date).build()


class _PlanBuilder:
    def __init__(self, patient: PatientInput, pack: ContentPack, start: dt.date | None) -> None:
        self.p = patient
        self.pack = pack
        self.start = start
        self.missing: dict[str, str] = {}
        self.recs: dict[PhaseName, list[Recommendation]] = {ph: [] for ph in PHASE_ORDER}
        self.options: dict[PhaseName, list[RegimenOption]] = {ph: [] for ph in PHASE_ORDER}
        self.alerts: list[Alert] = []
        self.used: list[str] = []  # statement and regimen ids used, for the review summary
        self.fired: set[tuple[str, str]] = set()  # (phase, rule id) already recommended
        trace = Trace(pack)
        self.population: Population = population_of(patient, pack)
        self.fitness: Fitness = fitness_of(patient, self.population, trace)
        self._merge_needs(trace)
        self.ph: PhStatus = (
            "positive"
            if patient.bcr_abl1 == "positive"
            else "negative"
            if patient.bcr_abl1 == "negative"
            else "unknown"
        )
        self.bsa: Bsa | None = None
        if patient.height_cm is not None and patient.weight_kg is not None:
            self.bsa = mosteller_bsa(patient.height_cm, patient.weight_kg)
        self.age_text = f"age {fmt(patient.age)} y"
        self.nci: bool | None = None
        self.risk: list[RiskEntry] = []

    # ------------------------------------------------------------------ helpers

    def _merge_needs(self, trace: Trace) -> None:
        for field, why in trace.needs.items():
            self.missing.setdefault(field, why)

    def need(self, field: str, why: str) -> None:
        self.missing.setdefault(field, why)

    def rec(
        self, phase: PhaseName, rule_id: str, because: Iterable[str], drugs: Iterable[str] = ()
    ) -> None:
        rule = RULES[rule_id]
        stmt = self.pack.statements.get(rule.statement)
        if stmt is None or (phase, rule_id) in self.fired:
            return  # a missing statement is reported by `content check`
        self.fired.add((phase, rule_id))
        self.used.append(stmt.id)
        self.recs[phase].append(
            construct(
                Recommendation,
                id=rule_id,
                statement_id=stmt.id,
                title=stmt.title,
                text=stmt.clinician_text,
                plain_text=stmt.plain_text,
                drugs=sorted(set(drugs)),
                rule=f"{rule_id}: {rule.when}",
                because=list(because),
                citations=list(stmt.citations),
                review_status=stmt.review.status.value,
            )
        )

    def option(self, phase: PhaseName, regimen_id: str, preferred: bool, why: str) -> None:
        regimen = self.pack.regimens.get(regimen_id)
        if regimen is None or any(o.regimen_id == regimen_id for o in self.options[phase]):
            return
        self.used.append(regimen.id)
        self.options[phase].append(
            regimen_option(
                regimen,
                phase,
                preferred=preferred,
                why=why,
                patient=self.p,
                pack=self.pack,
                bsa=self.bsa,
            )
        )

    def rule_citations(self, rule_id: str) -> list[str]:
        """References of the statement a rule serves (empty if content lacks it)."""
        stmt = self.pack.statements.get(RULES[rule_id].statement)
        return list(stmt.citations) if stmt else []

    def alert(self, severity: Severity, code: str, rule_id: str, message: str) -> None:
        citations = self.rule_citations(rule_id)
        if citations:
            self.used.append(RULES[rule_id].statement)
        self.alerts.append(
            construct(
                Alert,
                severity=severity,
                code=code,
                message=message,
                rule=rule_id,
                citations=citations,
            )
        )

    def preferred(self, phase: PhaseName) -> RegimenOption | None:
        return next((o for o in self.options[phase] if o.preferred), None)

    def _base_because(self) -> list[str]:
        out = [f"population {self.population} ({self.age_text})"]
        if self.p.lineage:
            out.append(f"{self.p.lineage.value}-lineage")
        out.append(f"BCR::ABL1 {self.ph}")
        return out

    # ------------------------------------------------------------------ build

    def build(self) -> Plan:
        self._risk()
        self._overview()
        self._prephase()
        self._induction()
        tki = self._tki()
        self._steroid_and_asparaginase()
        self._cns()
        self._supportive()
        self._consolidation()
        self._maintenance()
        mrd = self._mrd()
        transplant = self._transplant()
        self._standing_alerts()
        induction_for_calendar = [o for o in self.options["induction"] if o.preferred]
        return construct(
            Plan,
            engine_version=ENGINE_VERSION,
            content_version=self.pack.version,
            input_digest=input_digest(self.p),
            population=self.population,
            age_years=self.p.age,
            fitness=self.fitness,
            ph_status=self.ph,
            bsa_m2=self.bsa.value_m2 if self.bsa else None,
            bsa=construct(
                BsaOut,
                value_m2=self.bsa.value_m2,
                formula=self.bsa.formula,
                height_cm=self.bsa.height_cm,
                weight_kg=self.bsa.weight_kg,
            )
            if self.bsa
            else None,
            risk=self.risk,
            missing_data=[
                construct(MissingData, field=f, why=w) for f, w in sorted(self.missing.items())
            ],
            alerts=sorted(
                self.alerts, key=lambda a: ("critical", "warning", "info").index(a.severity)
            ),
            phases=[
                construct(
                    PhasePlan,
                    phase=ph,
                    recommendations=self.recs[ph],
                    regimen_options=self.options[ph],
                )
                for ph in PHASE_ORDER
                if self.recs[ph] or self.options[ph]
            ],
            tki=tki,
            transplant=transplant,
            mrd_timepoints=mrd,
            start_date=self.start,
            calendar=calendar(induction_for_calendar, self.start) if self.start else [],
            references=self._references(tki, transplant, mrd),
            review=self._review_summary(),
            disclaimer=DISCLAIMER,
        )

    # ------------------------------------------------------------------ risk

    def _risk(self) -> None:
        if self.population == "infant":
            entry, trace = assess_interfant(self.p, self.pack)
            self.risk.append(entry)
            self._merge_needs(trace)
        elif self.population == "child":
            nci_entry, trace = assess_nci(self.p, self.pack)
            self.risk.append(nci_entry)
            self._merge_needs(trace)
            self.nci = nci_high(nci_entry)
            if self.p.lineage is None:
                self.need("lineage", "B- and T-lineage ALL are treated differently from induction")
            if self.ph == "positive":
                pass  # Ph+ children follow the TKI pathway, not the COG B-ALL groups
            elif self.p.lineage == "T":
                entry, trace = assess_cog_t(self.p, self.pack)
                self.risk.append(entry)
                self._merge_needs(trace)
            else:
                entry, trace = assess_cog_b(self.p, self.pack, self.nci)
                self.risk.append(entry)
                self._merge_needs(trace)
        else:
            entry, trace = assess_adult(self.p, self.pack)
            self.risk.append(entry)
            self._merge_needs(trace)
            if self.p.lineage is None:
                self.need("lineage", "B- and T-lineage ALL are treated differently from induction")
        if self.ph == "unknown":
            self.need("bcr_abl1", "Ph+ ALL needs a tyrosine kinase inhibitor from induction")

    def _adult_high_risk(self) -> bool | None:
        for r in self.risk:
            if r.scheme == "adult":
                if r.status == "determined":
                    return r.group != "standard"
                return None
        return None

    # ------------------------------------------------------------------ phases

    def _overview(self) -> None:
        b = self._base_because()
        self.rec("induction", "overview.backbone", b)
        self.rec(
            "induction", "overview.risk_adapted", [f"{r.scheme}: {r.group}" for r in self.risk] or b
        )
        self.rec(
            "induction",
            "overview.trials",
            ["clinical trial enrolment is preferred wherever one is available"],
        )

    def _prephase(self) -> None:
        wbc = self.p.wbc_x10e9_per_l
        if is_adult(self.population):
            self.rec("prephase", "prephase.adult_steroid", self._base_because())
            self.option(
                "prephase",
                "gmall-prephase",
                True,
                "steroid prephase with cyclophosphamide before adult induction",
            )
        elif self.population == "child" and (self.p.lineage == "T" or self.ph == "positive"):
            self.rec("prephase", "prephase.prednisone_window", self._base_because())
        if wbc is None:
            self.need(
                "wbc_x10e9_per_l",
                "the presenting WBC sets NCI risk, adult risk and tumour lysis risk",
            )
            return
        t = Trace(self.pack)
        if t.threshold("wbc.hyperleukocytosis", "wbc_x10e9_per_l", wbc, ""):
            self.rec("prephase", "prephase.hyperleukocytosis", t.because)
            self.rec("prephase", "prephase.transfusion_high_wbc", t.because)
            self.alert(
                "warning",
                "HYPERLEUKOCYTOSIS",
                "prephase.hyperleukocytosis",
                f"WBC {fmt(wbc)} ×10⁹/L: hyperleukocytosis. Start cytoreduction with "
                "hydration and tumour lysis prophylaxis; watch for leukostasis.",
            )
        t = Trace(self.pack)
        if t.threshold("wbc.leukostasis_all", "wbc_x10e9_per_l", wbc, ""):
            self.rec("prephase", "prephase.leukapheresis", t.because)

    def _induction(self) -> None:
        b = self._base_because()
        pop, lineage = self.population, self.p.lineage
        if pop == "infant":
            self.rec("induction", "induction.infant", b)
            self.option(
                "induction",
                "interfant-06-induction",
                True,
                "infants are treated on an infant-specific protocol (Interfant)",
            )
        elif pop == "child":
            self._induction_child(b)
        else:
            self._induction_adult(b)
        if self.p.down_syndrome:
            self.rec("induction", "induction.down_syndrome", [*b, "Down syndrome"])
            self.alert(
                "warning",
                "DOWN_SYNDROME_TOXICITY",
                "induction.down_syndrome",
                "Down syndrome: higher treatment-related mortality and infection risk in "
                "every phase; use protocol-specific modifications and intensive "
                "supportive care.",
            )
        if lineage == "B" and is_adult(pop):
            self._rituximab(b)

    def _induction_child(self, b: list[str]) -> None:
        lineage = self.p.lineage
        if self.ph == "positive":
            self.option(
                "induction",
                "bfm-protocol-ia",
                True,
                "Ph+ children: intensive BFM-type chemotherapy (EsPhALL backbone) with a "
                "TKI added during induction",
            )
            self.option(
                "induction",
                "cog-hr-induction-4drug",
                False,
                "alternative COG 4-drug backbone used with dasatinib (AALL0622)",
            )
            return
        if lineage == "T":
            self.rec("induction", "induction.t_all", b)
            self.option(
                "induction",
                "cog-t-all-induction",
                True,
                "T-ALL: all children receive 4-drug induction whatever the NCI group",
            )
            self.option(
                "induction",
                "bfm-protocol-ia",
                False,
                "BFM Protocol IA is an equivalent 4-drug alternative on a BFM backbone",
            )
            return
        cns3 = self.p.cns_status == "CNS3"
        testis = bool(self.p.testicular_involvement)
        forced_hr = cns3 or testis
        nci_text = {True: "NCI high risk", False: "NCI standard risk", None: "NCI group unknown"}
        because = [*b, nci_text[self.nci]]
        if forced_hr:
            because.append("CNS3" if cns3 else "testicular involvement")
        bfm_why = (
            "BFM, St Jude and DFCI give a 4-drug (anthracycline) induction to all "
            "patients; a valid alternative backbone"
        )
        if self.nci is False and not forced_hr:
            self.rec("induction", "induction.pediatric_sr", because)
            self.option(
                "induction",
                "cog-sr-induction-3drug",
                lineage is not None,
                "NCI standard-risk B-ALL: 3-drug induction without anthracycline"
                + ("" if lineage else " (confirm B-lineage first)"),
            )
            self.option(
                "induction",
                "bfm-protocol-ia",
                False,
                bfm_why + "; not preferred: COG omits the anthracycline in NCI "
                "standard risk with remission rates above 95%",
            )
        elif self.nci is True or forced_hr:
            self.rec("induction", "induction.pediatric_hr", because)
            self.option(
                "induction",
                "cog-hr-induction-4drug",
                lineage is not None,
                "NCI high-risk B-ALL"
                + (" or CNS3/testicular disease" if forced_hr else "")
                + ": 4-drug induction with an anthracycline"
                + ("" if lineage else " (confirm B-lineage first)"),
            )
            self.option("induction", "bfm-protocol-ia", False, bfm_why)
        else:
            self.rec("induction", "induction.pediatric_sr", because)
            self.rec("induction", "induction.pediatric_hr", because)
            self.option(
                "induction",
                "cog-sr-induction-3drug",
                False,
                "if NCI standard risk (needs the presenting WBC)",
            )
            self.option(
                "induction",
                "cog-hr-induction-4drug",
                False,
                "if NCI high risk (needs the presenting WBC)",
            )
        self.rec("induction", "induction.bfm", because)

    def _induction_adult(self, b: list[str]) -> None:
        pop, lineage, fit = self.population, self.p.lineage, self.fitness
        older_or_unfit = pop == "older_adult" or fit == "unfit"
        if pop in ("adult", "older_adult"):
            self.rec("induction", "induction.fitness_not_age", [*b, f"fitness: {fit}"])
        if self.ph == "positive":
            self._induction_ph_adult(b, older_or_unfit)
            return
        known = fit != "unknown"
        if pop == "aya" and fit != "unfit":
            self.rec("induction", "induction.aya", b)
            self.option(
                "induction",
                "calgb-10403-induction",
                True,
                "AYA: pediatric-inspired therapy gives better results than adult "
                "regimens (CALGB 10403, patients 17–39 years)",
            )
            self.rec("induction", "induction.hyper_cvad", b)
            self.option(
                "induction",
                "hyper-cvad-course-a",
                False,
                "adult alternative; pediatric-inspired therapy is preferred at this age",
            )
            return
        if not older_or_unfit:
            self.rec("induction", "induction.adult_ph_negative", [*b, f"fitness: {fit}"])
            self.rec("induction", "induction.hyper_cvad", b)
            self.option(
                "induction",
                "hyper-cvad-course-a",
                known,
                "fit adult, Ph-negative: intensive multi-agent induction"
                + ("" if known else " (choose after the fitness assessment)"),
            )
            if lineage != "T":
                self.option(
                    "induction",
                    "mini-hcvd-inotuzumab",
                    False,
                    "lower-intensity option if the fitness assessment shows the patient "
                    "cannot tolerate intensive therapy",
                )
            return
        # older adults (≥ 65) or unfit adults
        self.rec("induction", "induction.older_moderate", [*b, f"fitness: {fit}"])
        self.rec("induction", "induction.older_low", [*b, f"fitness: {fit}"])
        b_lineage = lineage == "B"
        if fit == "fit":
            if b_lineage:
                self.rec("induction", "induction.older_inotuzumab", b)
                self.option(
                    "induction",
                    "mini-hcvd-inotuzumab",
                    True,
                    "fit older adult, B-lineage: reduced-intensity chemotherapy with "
                    "inotuzumab had fewer early deaths than Hyper-CVAD",
                )
                self.option(
                    "induction",
                    "ewall-ino-induction",
                    False,
                    "alternative low-intensity inotuzumab regimen (CD22-positive, age 55 or older)",
                )
            self.option(
                "induction",
                "hyper-cvad-course-a",
                not b_lineage,
                "intensive option; induction mortality rises steeply from age 60"
                + ("" if not b_lineage else "; not preferred for older B-ALL"),
            )
        else:
            self.option(
                "induction",
                "older-low-intensity",
                fit == "unfit",
                "unfit patient: low-intensity steroid and vincristine-based therapy"
                if fit == "unfit"
                else "if the patient proves unfit for more intensive "
                "therapy (fitness not yet assessed)",
            )
            if b_lineage:
                self.rec("induction", "induction.older_inotuzumab", b)
                self.option(
                    "induction",
                    "ewall-ino-induction",
                    False,
                    "low-intensity chemotherapy with inotuzumab for CD22-positive "
                    "B-ALL when the patient can tolerate it",
                )
                self.option(
                    "induction",
                    "mini-hcvd-inotuzumab",
                    False,
                    "moderate-intensity option if the fitness assessment allows",
                )
        if lineage is None:
            self.need("lineage", "inotuzumab-based regimens are for B-lineage ALL only")

    def _induction_ph_adult(self, b: list[str], older_or_unfit: bool) -> None:
        if older_or_unfit:
            self.rec("induction", "ph.older_unfit", [*b, f"fitness: {self.fitness}"])
            self.option(
                "induction",
                "ewall-ph01-induction",
                self.fitness != "unknown",
                "older or unfit Ph+: TKI with low-intensity chemotherapy "
                "(vincristine, dexamethasone)",
            )
            self.option(
                "induction",
                "dalba-dasatinib-blinatumomab",
                False,
                "chemotherapy-free alternative: dasatinib then blinatumomab",
            )
            self.option(
                "induction",
                "ponatinib-blinatumomab",
                False,
                "chemotherapy-free alternative: ponatinib with blinatumomab",
            )
        else:
            self.rec("induction", "ph.adult_fit", [*b, f"fitness: {self.fitness}"])
            self.option(
                "induction",
                "hyper-cvad-course-a",
                self.fitness != "unknown",
                "fit Ph+ adult: intensive chemotherapy combined with a TKI",
            )
            self.option(
                "induction",
                "ponatinib-blinatumomab",
                False,
                "chemotherapy-free alternative with high molecular response rates "
                "(single-centre phase 2)",
            )
            self.option(
                "induction",
                "dalba-dasatinib-blinatumomab",
                False,
                "chemotherapy-free alternative: dasatinib then blinatumomab",
            )
        self.rec("induction", "ph.chemo_free", b)

    def _rituximab(self, b: list[str]) -> None:
        t = Trace(self.pack)
        cd20 = t.threshold(
            "cd20.rituximab_percent",
            "cd20_percent",
            self.p.cd20_percent,
            "rituximab is added when 20% or more of blasts express CD20",
        )
        self._merge_needs(t)
        if cd20:
            self.rec("induction", "induction.rituximab", [*b, *t.because], ["rituximab"])

    def _tki(self) -> Tki:
        b = self._base_because()
        if self.ph == "negative":
            genetics = set(self.p.genetics or ())
            if genetics & {"Ph_like", "ABL_class_fusion", "CRLF2_rearranged"}:
                self.rec("induction", "ph.ph_like", [*b, "Ph-like / ABL-class genetics"])
            return construct(
                Tki,
                indicated=False,
                preferred=[],
                alternatives=[],
                because=["BCR::ABL1 negative"],
                citations=[],
            )
        if self.ph == "unknown":
            self.alert(
                "critical",
                "PH_STATUS_UNKNOWN",
                "ph.unknown_status",
                "BCR::ABL1 (Philadelphia chromosome) status is unknown: obtain it urgently; "
                "a positive result means a TKI must be added during induction.",
            )
            return construct(
                Tki,
                indicated=None,
                preferred=[],
                alternatives=[],
                because=["BCR::ABL1 status unknown"],
                citations=self.rule_citations("ph.tki_always"),
            )
        self.rec("induction", "ph.tki_always", b)
        self.rec("induction", "ph.interactions", b)
        self.alert(
            "critical",
            "TKI_REQUIRED",
            "pitfall.omit_tki",
            "Ph+ ALL: a tyrosine kinase inhibitor must be part of therapy from induction; "
            "never omit or interrupt it without a reason.",
        )
        t315i = "T315I" in (self.p.abl1_mutations or [])
        because = [*b]
        if self.population in ("child", "infant"):
            self.rec("induction", "ph.pediatric", b)
            preferred, alternatives = ["dasatinib"], ["imatinib"]
            because.append(
                "children: dasatinib gave better EFS than imatinib (CCCG-ALL-2015); "
                "imatinib is the AALL0031/EsPhALL standard"
            )
            regimens = {"dasatinib": "pediatric-ph-dasatinib", "imatinib": "pediatric-ph-imatinib"}
        elif self.population == "older_adult" or self.fitness == "unfit":
            preferred, alternatives = ["dasatinib"], ["ponatinib", "imatinib"]
            because.append(
                "older or unfit adults: dasatinib with low-intensity therapy "
                "(EWALL-PH-01); ponatinib is an alternative"
            )
            regimens = {
                "dasatinib": "adult-ph-dasatinib",
                "ponatinib": "adult-ph-ponatinib",
                "imatinib": "adult-ph-imatinib",
            }
        else:
            preferred, alternatives = ["ponatinib"], ["dasatinib", "imatinib"]
            because.append(
                "fit adults: ponatinib gave more MRD-negative remissions than imatinib (PhALLCON)"
            )
            regimens = {
                "dasatinib": "adult-ph-dasatinib",
                "ponatinib": "adult-ph-ponatinib",
                "imatinib": "adult-ph-imatinib",
            }
        if t315i:
            self.rec("induction", "ph.t315i", [*b, "ABL1 T315I mutation"], ["ponatinib"])
            because.append("ABL1 T315I: only ponatinib of these TKIs is active")
            preferred, alternatives = ["ponatinib"], []
            self.alert(
                "critical",
                "T315I_PONATINIB",
                "ph.t315i",
                "ABL1 T315I mutation: imatinib, dasatinib and nilotinib are inactive; "
                "use ponatinib.",
            )
            if "ponatinib" not in regimens:
                regimens["ponatinib"] = "adult-ph-ponatinib"
        for drug in preferred:
            self.option("induction", regimens[drug], True, f"preferred TKI: {drug}")
        for drug in alternatives:
            self.option("induction", regimens[drug], False, f"alternative TKI: {drug}")
        cites = self.rule_citations("ph.tki_always")
        if t315i:
            cites += [c for c in self.rule_citations("ph.t315i") if c not in cites]
        return construct(
            Tki,
            indicated=True,
            preferred=preferred,
            alternatives=alternatives,
            because=because,
            citations=cites,
        )

    def _steroid_and_asparaginase(self) -> None:
        b = self._base_because()
        preferred = self.preferred("induction")
        self.rec("induction", "steroid.dex_vs_pred", b)
        if self.population == "child" and self.ph != "positive":
            if self.p.lineage == "T":
                self.rec("induction", "steroid.t_all", b)
            elif self.nci is False and self.p.cns_status != "CNS3":
                self.rec("induction", "steroid.sr_schedule", [*b, "NCI standard risk"])
            elif self.nci is True:
                self.rec("induction", "steroid.age_based_hr", [*b, "NCI high risk"])
        elif is_adult(self.population):
            self.rec("induction", "steroid.adults", b)
            if self.p.lineage == "T":
                self.rec("induction", "steroid.t_all", b)
        t = Trace(self.pack)
        below10 = t.threshold("age.dex_benefit_upper_years", "age_years", self.p.age, "")
        has_dex = preferred is not None and contains_drug(preferred, {"dexamethasone"})
        if below10 is False and self.population in ("child", "aya"):
            self.rec("induction", "steroid.toxicity_age10", t.because)
        if has_dex and below10 is False and self.population in ("child", "aya"):
            self.alert(
                "warning",
                "DEXAMETHASONE_TOXICITY",
                "pitfall.high_dose_dex",
                f"{self.age_text}: dexamethasone in this plan carries a higher risk of "
                "osteonecrosis, infection and other toxicity at this age; weigh the "
                "schedule against the protocol.",
            )
        if preferred is None or not contains_drug(preferred, ASPARAGINASES):
            return
        if self.p.asparaginase_hypersensitivity:
            self.rec(
                "induction",
                "asparaginase.erwinia_switch",
                [*b, "asparaginase hypersensitivity reported"],
                ["asparaginase erwinia (recombinant)"],
            )
            self.alert(
                "warning",
                "ASPARAGINASE_HYPERSENSITIVITY",
                "asparaginase.erwinia_switch",
                "Asparaginase hypersensitivity: do not re-expose to the same E. coli-derived "
                "product; switch to asparaginase erwinia (recombinant).",
            )
        else:
            self.rec("induction", "asparaginase.pegaspargase", b, ["pegaspargase"])
        self.rec("induction", "asparaginase.silent_inactivation", b)
        self.rec("induction", "asparaginase.toxicity", b)
        if is_adult(self.population):
            self.rec("induction", "asparaginase.adult_dosing", b)

    def _cns(self) -> None:
        b = self._base_because()
        self.rec("cns", "cns.prophylaxis_all", b)
        self.rec("cns", "cns.it_routes", b)
        self.rec("cns", "cns.it_safe_drugs", b)
        self.rec("cns", "cns.ommaya", b)
        if is_adult(self.population):
            self.rec("cns", "cns.adult_it", b)
        else:
            self.rec("cns", "cns.it_age_dosing", b)
        cns = self.p.cns_status
        if cns is None:
            self.need(
                "cns_status",
                "CNS status (CNS1/2/3 from the diagnostic lumbar puncture) "
                "sets the number of intrathecal doses and radiation needs",
            )
            self.rec("cns", "cns.cns2_cns3", [*b, "CNS status unknown"])
        elif cns != "CNS1":
            self.rec("cns", "cns.cns2_cns3", [*b, cns.value])
        if cns == "CNS3" or self.p.lineage == "T":
            self.rec("cns", "cns.cranial_rt", [*b, *([cns.value] if cns else [])])
        if self.p.testicular_involvement:
            self.rec("cns", "cns.testicular", [*b, "testicular involvement"])
        self.rec("cns", "cns.hdmtx", b)

    def _supportive(self) -> None:
        b = self._base_because()
        wbc = self.p.wbc_x10e9_per_l
        t = Trace(self.pack)
        tls_high = t.threshold(
            "wbc.tls_high_risk", "wbc_x10e9_per_l", wbc, "WBC sets tumour lysis risk"
        )
        self.rec("supportive", "supportive.tls_risk", [*b, *t.because])
        self.rec(
            "supportive",
            "supportive.tls_prophylaxis",
            [*b, *t.because],
            ["allopurinol", "rasburicase"] if tls_high else ["allopurinol"],
        )
        g6pd = self.p.g6pd_deficiency
        if tls_high:
            self.rec(
                "supportive",
                "supportive.rasburicase_g6pd",
                [*t.because, f"G6PD deficiency: {'unknown' if g6pd is None else g6pd}"],
            )
            if g6pd is False:
                self.option(
                    "supportive",
                    "tls-rasburicase",
                    True,
                    "high tumour lysis risk, G6PD deficiency excluded",
                )
            elif g6pd is None:
                self.need("g6pd_deficiency", "rasburicase is contraindicated in G6PD deficiency")
                self.option(
                    "supportive", "tls-prophylaxis-allopurinol", True, "until G6PD status is known"
                )
                self.option(
                    "supportive",
                    "tls-rasburicase",
                    False,
                    "high tumour lysis risk: give only after G6PD deficiency is excluded",
                )
                self.alert(
                    "warning",
                    "G6PD_UNKNOWN_RASBURICASE",
                    "pitfall.rasburicase_g6pd",
                    "High tumour lysis risk: check G6PD status before giving rasburicase.",
                )
            else:
                self.option(
                    "supportive",
                    "tls-prophylaxis-allopurinol",
                    True,
                    "G6PD deficiency: rasburicase is contraindicated",
                )
                self.alert(
                    "critical",
                    "RASBURICASE_CONTRAINDICATED",
                    "pitfall.rasburicase_g6pd",
                    "G6PD deficiency: rasburicase is contraindicated (haemolysis, "
                    "methaemoglobinaemia); use hydration and allopurinol.",
                )
        else:
            self.option(
                "supportive",
                "tls-prophylaxis-allopurinol",
                True,
                "tumour lysis prophylaxis with hydration and allopurinol"
                + (" (WBC unknown: reassess risk)" if tls_high is None else ""),
            )
        pjp = (
            "pjp-cotrimoxazole-adult"
            if is_adult(self.population)
            else "pjp-cotrimoxazole-pediatric"
        )
        self.rec("supportive", "supportive.pjp", b, ["co-trimoxazole"])
        self.option("supportive", pjp, True, "Pneumocystis prophylaxis throughout therapy")
        self.rec("supportive", "supportive.antifungal", b)
        preferred = self.preferred("induction")
        if preferred and contains_drug(preferred, {"vincristine"}):
            self.rec("supportive", "supportive.azole_vincristine", b, ["vincristine"])
        self.rec("supportive", "supportive.antibacterial", b)
        self.rec("supportive", "supportive.antiviral", b)
        self.rec("supportive", "supportive.hbv", b)
        self.rec("supportive", "supportive.growth_factors", b)
        self.rec("supportive", "supportive.platelets", b)
        self.rec("supportive", "supportive.red_cells", b)
        self.rec("supportive", "supportive.irradiated", b)
        self.rec("supportive", "supportive.central_line", b)
        if preferred and contains_drug(preferred, ANTHRACYCLINES):
            lvef = self.p.lvef_percent
            self.rec(
                "supportive",
                "supportive.anthracycline_cardiac",
                [
                    *b,
                    "anthracycline in the preferred induction",
                    "LVEF unknown" if lvef is None else f"LVEF {fmt(lvef)}%",
                ],
            )
            if lvef is None:
                self.need(
                    "lvef_percent",
                    "a baseline LVEF (echocardiogram) is needed before anthracyclines",
                )

    def _consolidation(self) -> None:
        b = self._base_because()
        self.rec("consolidation", "consolidation.purpose", b)
        eoi = self.p.mrd_at(MrdTimepoint.end_of_induction)
        if self.population == "child" and self.ph != "positive":
            self.rec("consolidation", "consolidation.interim_maintenance", b)
            self.rec("consolidation", "consolidation.delayed_intensification", b)
            if self.p.lineage == "T":
                self.rec("consolidation", "consolidation.pediatric_hr", b)
                self.rec("consolidation", "consolidation.nelarabine", b, ["nelarabine"])
                self.option(
                    "consolidation",
                    "cog-augmented-bfm-consolidation",
                    True,
                    "T-ALL: augmented BFM consolidation",
                )
            elif self.nci is False:
                self.rec("consolidation", "consolidation.pediatric_sr", b)
                self.rec("consolidation", "consolidation.blina_pediatric", b, ["blinatumomab"])
                self.option(
                    "consolidation",
                    "cog-sr-consolidation",
                    True,
                    "NCI standard risk: standard 4-week consolidation",
                )
            elif self.nci is True:
                self.rec("consolidation", "consolidation.pediatric_hr", b)
                self.option(
                    "consolidation",
                    "cog-augmented-bfm-consolidation",
                    True,
                    "NCI high risk: augmented BFM consolidation",
                )
        elif is_adult(self.population):
            induction = self.preferred("induction")
            if induction and induction.regimen_id == "hyper-cvad-course-a":
                self.rec("consolidation", "consolidation.adult_hdmtx", b)
                self.option(
                    "consolidation",
                    "hyper-cvad-course-b",
                    True,
                    "Hyper-CVAD alternates course A with course B (high-dose "
                    "methotrexate and cytarabine)",
                )
            if self.p.lineage == "B" and self.ph == "negative":
                self.rec("consolidation", "consolidation.blina_adult_mrd_neg", b, ["blinatumomab"])
            if self.p.lineage == "T":
                self.rec("consolidation", "consolidation.nelarabine", b, ["nelarabine"])
        if self.p.lineage == "B" and eoi is not None:
            t = Trace(self.pack)
            if t.threshold("mrd.blinatumomab_indication", "mrd.end_of_induction", eoi, ""):
                self.rec(
                    "consolidation", "consolidation.blina_mrd_pos", t.because, ["blinatumomab"]
                )
                self.option(
                    "consolidation",
                    "blinatumomab-mrd",
                    True,
                    f"MRD {fmt(eoi)}% after induction: blinatumomab for MRD-positive B-ALL",
                )

    def _maintenance(self) -> None:
        b = self._base_because()
        self.rec("maintenance", "maintenance.backbone", b, ["mercaptopurine", "methotrexate"])
        self.rec("maintenance", "maintenance.duration", b)
        self.rec("maintenance", "maintenance.adherence", b)
        self.rec("maintenance", "maintenance.allopurinol", b, ["mercaptopurine", "allopurinol"])
        genes = {"tpmt": self.p.tpmt, "nudt15": self.p.nudt15}
        because = [f"{g.upper()} {'unknown' if v is None else v.value}" for g, v in genes.items()]
        self.rec("maintenance", "maintenance.tpmt_nudt15", [*b, *because], ["mercaptopurine"])
        for g, v in genes.items():
            if v is None:
                self.need(g, "TPMT and NUDT15 genotype set the mercaptopurine starting dose")
        poor = [g.upper() for g, v in genes.items() if v is not None and v.value == "poor"]
        inter = [g.upper() for g, v in genes.items() if v is not None and v.value == "intermediate"]
        if poor:
            self.alert(
                "critical",
                "THIOPURINE_POOR_METABOLISER",
                "maintenance.tpmt_nudt15",
                f"{' and '.join(poor)} poor metaboliser: full-dose mercaptopurine can "
                "cause life-threatening myelosuppression; use a drastically reduced dose "
                "or an alternative per CPIC.",
            )
        elif inter:
            self.alert(
                "warning",
                "THIOPURINE_INTERMEDIATE_METABOLISER",
                "maintenance.tpmt_nudt15",
                f"{' and '.join(inter)} intermediate metaboliser: start mercaptopurine at a "
                "reduced dose per CPIC.",
            )
        if is_adult(self.population):
            self.rec("maintenance", "maintenance.adult", b)
            induction = self.preferred("induction")
            if induction and induction.regimen_id == "hyper-cvad-course-a":
                self.option(
                    "maintenance",
                    "hypercvad-pomp-maintenance",
                    True,
                    "maintenance after Hyper-CVAD",
                )
        elif self.population == "child":
            self.rec("maintenance", "maintenance.pulses", b)
            if self.ph != "positive":
                self.option(
                    "maintenance",
                    "cog-maintenance",
                    True,
                    "COG maintenance backbone (12-week cycles)",
                )

    def _mrd(self) -> list[MrdTimepointPlan]:
        b = self._base_because()
        self.rec("induction", "mrd.end_of_induction", b)
        self.rec("induction", "mrd.methods", b)
        plan: list[tuple[MrdTimepoint, str, str, str]] = []
        child = self.population in ("child", "infant")
        if child:
            self.rec("induction", "mrd.pediatric", b)
            if self.p.lineage != "T" and self.population == "child":
                plan.append(
                    (
                        MrdTimepoint.day8_blood,
                        "day 8 of induction (peripheral blood)",
                        "early response; separates COG low/average/high risk",
                        "mrd.pediatric",
                    )
                )
            plan.append(
                (
                    MrdTimepoint.end_of_induction,
                    "end of induction (day 29 marrow)",
                    "strongest predictor of relapse; sets post-induction intensity",
                    "mrd.end_of_induction",
                )
            )
        else:
            self.rec("induction", "mrd.adult", b)
            plan.append(
                (
                    MrdTimepoint.end_of_induction,
                    "end of induction (marrow)",
                    "MRD response guides consolidation, blinatumomab and transplant",
                    "mrd.end_of_induction",
                )
            )
        if self.p.lineage == "T":
            self.rec("induction", "mrd.t_all", b)
        plan.append(
            (
                MrdTimepoint.end_of_consolidation,
                "end of consolidation",
                "persistent MRD identifies patients who need escalation or transplant",
                "transplant.persistent_mrd",
            )
        )
        out = []
        for tp, when, why, rule_id in plan:
            out.append(
                construct(
                    MrdTimepointPlan,
                    timepoint=tp.value,
                    when=when,
                    why=why,
                    result_percent=self.p.mrd_at(tp),
                    citations=self.rule_citations(rule_id),
                )
            )
        if self.p.mrd_at(MrdTimepoint.end_of_induction) is None:
            self.alert(
                "warning",
                "MRD_END_OF_INDUCTION",
                "pitfall.ignore_mrd",
                "Plan the end-of-induction MRD now (marrow sample, method with sensitivity "
                "of at least 10⁻⁴); its result decides post-induction therapy and "
                "transplant.",
            )
        return out

    def _transplant(self) -> Transplant:
        p = self.p
        b: list[str] = []
        cites: list[str] = []
        decision: TransplantDecision = "not_indicated"

        def use(rule_id: str, level: TransplantDecision, reason: str) -> None:
            nonlocal decision
            order = ["undetermined", "not_indicated", "consider", "recommend"]
            if order.index(level) > order.index(decision):
                decision = level
            b.append(reason)
            self.rec("transplant", rule_id, [reason])
            cites.extend(c for c in self.rule_citations(rule_id) if c not in cites)

        eoi = p.mrd_at(MrdTimepoint.end_of_induction)
        eoc = p.mrd_at(MrdTimepoint.end_of_consolidation)
        if p.remission == "CR3":
            use("transplant.cr3", "recommend", "third complete remission")
        elif p.remission == "CR2":
            use(
                "transplant.cr2",
                "consider",
                "second complete remission: depends on time to relapse, site and phenotype",
            )
        if p.induction_outcome == "induction_failure":
            use(
                "transplant.induction_failure",
                "recommend",
                "induction failure: transplant once an MRD-negative remission is achieved",
            )
        if self.population == "infant":
            hr = any(r.scheme == "Interfant" and r.group == "high" for r in self.risk)
            if hr:
                use(
                    "transplant.infant",
                    "recommend",
                    "Interfant high risk (KMT2A-r, <6 months, "
                    "high WBC or poor prednisone response)",
                )
            else:
                use(
                    "transplant.infant",
                    "not_indicated",
                    "infant not in the Interfant high-risk group",
                )
        t = Trace(self.pack)
        eoc_pos = (
            t.threshold("mrd.eoc_positive", "mrd.end_of_consolidation", eoc, "")
            if eoc is not None
            else None
        )
        if is_adult(self.population):
            mrd_high = t.threshold("mrd.adult_hct_benefit", "mrd.end_of_induction", eoi, "")
            if mrd_high or eoc_pos:
                use(
                    "transplant.persistent_mrd",
                    "recommend",
                    "; ".join(x for x in t.because if "unknown" not in x),
                )
            if self.ph == "positive":
                use(
                    "transplant.ph_positive",
                    "consider",
                    "Ph+ ALL: transplant in CR1 is decided by the MRD response in the TKI era",
                )
            high = self._adult_high_risk()
            if self.ph != "positive" and high:
                use(
                    "transplant.adult_high_risk",
                    "consider",
                    "adult high-risk features: transplant in CR1 if MRD response is inadequate "
                    "or per protocol",
                )
            if eoi is None and decision in ("not_indicated",):
                decision = "undetermined"
                b.append("needs end-of-induction MRD (and risk factors) to decide")
        else:
            if eoc_pos:
                use(
                    "transplant.persistent_mrd",
                    "consider",
                    f"MRD {fmt(eoc or 0)}% at end of consolidation",
                )
            if self.ph == "positive":
                use(
                    "transplant.ph_positive",
                    "not_indicated",
                    "Ph+ child on continuous TKI: transplant only for poor MRD response",
                )
            if self.population == "child":
                use(
                    "transplant.pediatric_cr1",
                    "not_indicated",
                    "most children in first remission are cured without transplant",
                )
                if eoi is None and decision == "not_indicated":
                    decision = "undetermined"
                    b.append("needs end-of-induction MRD to confirm")
        if decision in ("recommend", "consider"):
            self.rec("transplant", "transplant.hla_typing", b)
        return construct(
            Transplant,
            recommendation=decision,
            because=b,
            citations=cites,
        )

    def _standing_alerts(self) -> None:
        preferred = self.preferred("induction")
        self.alert(
            "warning",
            "CNS_PROPHYLAXIS_IN_INDUCTION",
            "pitfall.cns_delay",
            "Start CNS-directed therapy (intrathecal chemotherapy) during induction; "
            "do not postpone it.",
        )
        if preferred:
            has_vcr = contains_drug(preferred, {"vincristine"})
            has_it = any(d.route in INTRATHECAL for d in preferred.drugs)
            if has_vcr and has_it:
                self.alert(
                    "critical",
                    "VINCRISTINE_IV_ONLY",
                    "pitfall.vincristine_route",
                    "Vincristine is for intravenous use only (minibag) and is fatal if "
                    "given intrathecally; keep it apart from intrathecal drugs.",
                )
        if self.population in ("adult", "older_adult") and self.fitness == "unknown":
            self.alert(
                "warning",
                "FITNESS_NOT_AGE",
                "pitfall.age_alone",
                "Do not choose treatment intensity by age alone: record performance "
                "status, comorbidities and fitness for intensive therapy.",
            )
        self.alert(
            "info",
            "NO_INTERRUPTION",
            "pitfall.interrupt",
            "Avoid unplanned interruptions or delays of therapy in responding patients.",
        )

    # ------------------------------------------------------------------ output

    def _references(
        self, tki: Tki, transplant: Transplant, mrd: list[MrdTimepointPlan]
    ) -> list[ReferenceOut]:
        order: dict[str, None] = {}

        def add(ids: Iterable[str]) -> None:
            for i in ids:
                order.setdefault(i)

        for r in self.risk:
            add(r.citations)
        for a in self.alerts:
            add(a.citations)
        for ph in PHASE_ORDER:
            for rec in self.recs[ph]:
                add(rec.citations)
            for opt in self.options[ph]:
                add(opt.citations)
                for d in opt.drugs:
                    add(d.citations)
        add(tki.citations)
        add(transplant.citations)
        for m in mrd:
            add(m.citations)
        formatted = _formatted_references(self.pack)
        out: list[ReferenceOut] = []
        for ref_id in order:
            if ref_id in formatted:
                out.append(_reference_out(self.pack.version, ref_id, len(out) + 1, formatted))
        return out

    def _review_summary(self) -> ReviewSummary:
        counts: dict[str, int] = {}
        dates: list[dt.date] = []
        for item_id in dict.fromkeys(self.used):
            item = self.pack.statements.get(item_id) or self.pack.regimens.get(item_id)
            if item is None:
                continue
            status = item.review.status.value
            counts[status] = counts.get(status, 0) + 1
            dates.append(item.review.last_updated)
        status = "approved" if set(counts) == {"approved"} else "pending review"
        return construct(
            ReviewSummary,
            status=status,
            counts=dict(sorted(counts.items())),
            last_updated=max(dates) if dates else None,
        )


_REFERENCE_CACHE: dict[str, dict[str, tuple[str, str | None]]] = {}


def _formatted_references(pack: ContentPack) -> dict[str, tuple[str, str | None]]:
    """Citation text and URL of every reference, formatted once per content version."""
    cached = _REFERENCE_CACHE.get(pack.version)
    if cached is None:
        cached = {
            ref_id: (format_reference(ref), reference_url(ref))
            for ref_id, ref in pack.references.items()
        }
        _REFERENCE_CACHE[pack.version] = cached
    return cached


_REFERENCE_OUT: dict[tuple[str, str, int], ReferenceOut] = {}


def _reference_out(
    version: str, ref_id: str, n: int, formatted: dict[str, tuple[str, str | None]]
) -> ReferenceOut:
    """Numbered reference entries are immutable: share them between plans."""
    key = (version, ref_id, n)
    entry = _REFERENCE_OUT.get(key)
    if entry is None:
        citation, url = formatted[ref_id]
        entry = construct(ReferenceOut, n=n, id=ref_id, citation=citation, url=url)
        _REFERENCE_OUT[key] = entry
    return entry


def format_reference(ref: Reference) -> str:
    parts = [
        # strip a trailing period first so "et al." never becomes "et al.."
        ref.authors.rstrip(".") + "." if ref.authors else "",
        ref.title.rstrip(".") + ".",
        ref.source.rstrip(".") + ".",
        str(ref.year),
    ]
    text = " ".join(p for p in parts if p)
    if ref.citation_detail:
        text += f";{ref.citation_detail}"
    text += "."
    if ref.pmid:
        text += f" PMID {ref.pmid}."
    if ref.doi:
        text += f" doi:{ref.doi}."
    return text


def reference_url(ref: Reference) -> str | None:
    if ref.url:
        return ref.url
    if ref.doi:
        return f"https://doi.org/{ref.doi}"
    if ref.pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"
    return None
