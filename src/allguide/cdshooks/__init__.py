"""CDS Hooks 2.0 service: discovery, patient-view and order checks, feedback, JWT checks.

A shell over the core: FHIR from the EHR → `allguide.fhir` mapping → `build_plan` /
`allguide.safety.check_orders` → cards. The web app mounts `router.create_router(settings)`
at the root (`/cds-services`).

Modules: `config` (settings resolved for this package), `jwt` (client JWT verification),
`discovery` (services and prefetch templates), `prefetch` (templates, fallback to the
client's FHIR server), `orders` (draft orders), `cards` (card building), `hooks` (the
three services), `store`/`dbstore` (plans, feedback, audit), `router` (HTTP).
"""
