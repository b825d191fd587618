"""FHIR R4 shell: read a patient from FHIR resources, write a plan as FHIR, read orders.

Mapping logic only (no network, no clock: today's date is passed in). The code table is
data in `mapping.yaml`; `docs/fhir-mapping.md` is generated from it.
"""
