"""The three CDS services and their discovery document (`GET /cds-services`).

Prefetch templates use only the `{{context.patientId}}` token (what every client,
including the CDS Hooks sandbox, substitutes) and plain searches the spec allows.
Draft orders are not prefetched: order-select and order-sign send them in
`context.draftOrders`.
"""

from __future__ import annotations

from dataclasses import dataclass

from allguide.cdshooks.models import Discovery, ServiceDescriptor

USAGE_REQUIREMENTS = (
    "For qualified health professionals caring for patients with acute lymphoblastic "
    "leukemia. Decision support only, not a medical order; not for time-critical use. "
    "No card does not mean no issue. Content is marked draft until approved by the "
    "medical advisory board. Needs read access to Patient, Observation, Condition and "
    "AllergyIntolerance (prefetch or fhirServer with fhirAuthorization)."
)

# Patient data every service needs: the plan needs age, counts, genetics and body size;
# order checks need body size, organ function, pharmacogenetics and allergies.
# Observations are not filtered by category: EHRs categorise them differently (ECOG is
# often "survey", LVEF "imaging" or "procedure", many send none), and a category filter
# would silently turn a recorded value into a "missing" one.
PATIENT_PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&_count=500",
    "conditions": "Condition?patient={{context.patientId}}",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}
# Keys whose absence (no prefetch, no fhirServer) makes a service unable to work: 412.
REQUIRED_KEYS = frozenset({"patient"})


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str]

    def descriptor(self) -> ServiceDescriptor:
        return ServiceDescriptor(
            hook=self.hook,
            title=self.title,
            description=self.description,
            id=self.id,
            prefetch=dict(self.prefetch),
            usage_requirements=USAGE_REQUIREMENTS,
        )


PATIENT_VIEW = Service(
    id="allguide-patient-view",
    hook="patient-view",
    title="allguide: ALL treatment plan summary",
    description=(
        "Builds a cited, risk-adapted treatment plan for acute lymphoblastic leukemia from "
        "the patient's record and returns a card with the risk group, key alerts and a link "
        "to the full plan; data problems found in the record come as an info card."
    ),
    prefetch=PATIENT_PREFETCH,
)
ORDER_SELECT = Service(
    id="allguide-order-select",
    hook="order-select",
    title="allguide: chemotherapy order check (selection)",
    description=(
        "Checks the newly selected chemotherapy orders for acute lymphoblastic leukemia "
        "(route, dose caps and deviations, interactions, pharmacogenetics, allergies) and "
        "returns one card per finding, with a corrected order where the fix is obvious."
    ),
    prefetch=PATIENT_PREFETCH,
)
ORDER_SIGN = Service(
    id="allguide-order-sign",
    hook="order-sign",
    title="allguide: chemotherapy order check (signing)",
    description=(
        "Checks the whole set of chemotherapy orders about to be signed for acute "
        "lymphoblastic leukemia (route, dose caps and deviations, missing CNS prophylaxis "
        "or TKI, interactions, cumulative anthracycline, pharmacogenetics, allergies)."
    ),
    prefetch=PATIENT_PREFETCH,
)

SERVICES: dict[str, Service] = {s.id: s for s in (PATIENT_VIEW, ORDER_SELECT, ORDER_SIGN)}


def discovery() -> Discovery:
    return Discovery(services=[s.descriptor() for s in SERVICES.values()])
