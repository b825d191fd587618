"""Age population and fitness: which family of regimens applies."""

from __future__ import annotations

from typing import Literal

from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput
from allguide.risk.criteria import Trace

Population = Literal["infant", "child", "aya", "adult", "older_adult"]
Fitness = Literal["fit", "unfit", "unknown", "not_applicable"]


def population_of(patient: PatientInput, pack: ContentPack) -> Population:
    age = patient.age
    if age < pack.threshold("age.infant_upper_years"):
        return "infant"
    if age < pack.threshold("age.aya_lower_years"):
        return "child"
    if age < pack.threshold("age.aya_upper_years"):
        return "aya"
    if age < pack.threshold("age.older_adult_years"):
        return "adult"
    return "older_adult"


def fitness_of(patient: PatientInput, population: Population, trace: Trace) -> Fitness:
    """Fitness for intensive therapy matters from adulthood; it is never inferred from age."""
    if population in ("infant", "child"):
        return "not_applicable"
    if patient.fit_for_intensive is None:
        trace.need(
            "fit_for_intensive",
            "intensity of induction in adults depends on fitness and comorbidities, "
            "not on age alone",
        )
        return "unknown"
    return "fit" if patient.fit_for_intensive else "unfit"


def is_adult(population: Population) -> bool:
    return population in ("aya", "adult", "older_adult")
