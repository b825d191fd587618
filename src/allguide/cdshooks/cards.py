"""Cards: the plan and the order-check findings, in CDS Hooks form.

Rules kept here:
- `summary` is one line of at most 139 characters (the spec says "<140"), clipped at a
  word boundary with an ellipsis when longer;
- `detail` is GitHub-flavoured markdown with no raw HTML: text that came from the record
  or the content is escaped, links are only the absolute http(s) URLs we build;
- every card has a fresh `uuid` (the key of feedback and of the audit trail), a `source`
  whose label names allguide and whose URL points to the cited content, the content
  version and its review status, and override reasons on every actionable card;
- no `systemActions`, no auto-launch: suggestions wait for a clinician's click.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence

from allguide.cdshooks.models import (
    SUMMARY_MAX,
    Action,
    Card,
    Coding,
    Indicator,
    Link,
    OverrideReasonCoding,
    Source,
    Suggestion,
)
from allguide.cdshooks.orders import OrderSource, corrected_request
from allguide.knowledge.pack import ContentPack
from allguide.planning.engine import DISCLAIMER, format_reference, reference_url
from allguide.planning.plan import Plan
from allguide.render.formatting import route_label
from allguide.safety import ORDER_CHECK_DISCLAIMER, Finding, SuggestedOrder

SOURCE_LABEL = "allguide ALL guidance"
OVERRIDE_SYSTEM = "urn:allguide:cds:override-reason"
RULE_SYSTEM = "urn:allguide:rule"
OVERRIDE_REASONS: tuple[OverrideReasonCoding, ...] = tuple(
    OverrideReasonCoding(system=OVERRIDE_SYSTEM, code=code, display=display)
    for code, display in (
        ("protocol-differs", "The treating protocol specifies otherwise"),
        ("patient-specific", "Patient-specific clinical reason"),
        ("data-incorrect", "Patient data in the record is wrong or out of date"),
        ("already-addressed", "Already addressed"),
        ("not-applicable", "Does not apply to this patient"),
    )
)
ORDER_NOTE = ORDER_CHECK_DISCLAIMER
SEVERITY_RANK: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}
_SPACE = re.compile(r"\s+")
# Enough to stop emphasis, code, links, images, tables and raw HTML: with `[` and `]`
# escaped, parentheses and `!` cannot form a link or an image.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def new_uuid() -> str:
    return str(uuid.uuid4())


def clip(text: str, limit: int = SUMMARY_MAX) -> str:
    """One line, at most `limit` characters, cut at a word boundary with an ellipsis."""
    line = _SPACE.sub(" ", text).strip()
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def md(text: object) -> str:
    """Markdown-escape text from the record or content: no HTML, no links, no emphasis."""
    return _MD_SPECIAL.sub(r"\\\1", _SPACE.sub(" ", str(text)).strip())


def is_absolute(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("https://", "http://"))


def citation_lines(pack: ContentPack, citations: Iterable[str]) -> list[str]:
    """Numbered markdown citations with their canonical links."""
    out = []
    for n, ref_id in enumerate(dict.fromkeys(citations), start=1):
        ref = pack.references.get(ref_id)
        if ref is None:
            out.append(f"{n}. {md(ref_id)}")
            continue
        url = reference_url(ref)
        text = md(format_reference(ref))
        out.append(f"{n}. {text} <{url}>" if is_absolute(url) else f"{n}. {text}")
    return out


def source_for(
    pack: ContentPack,
    link_base: str,
    *,
    statement_id: str | None = None,
    citations: Sequence[str] = (),
    topic: Coding | None = None,
) -> Source:
    """The statement page on our app when it has a public URL, else the first cited source."""
    url: str | None = None
    if statement_id and statement_id in pack.statements and is_absolute(link_base):
        url = f"{link_base}/statements/{statement_id}"
    else:
        for ref_id in citations:
            ref = pack.references.get(ref_id)
            candidate = reference_url(ref) if ref is not None else None
            if is_absolute(candidate):
                url = candidate
                break
    return Source(label=SOURCE_LABEL, url=url, topic=topic)


def review_line(pack: ContentPack, statement_ids: Iterable[str]) -> str:
    statuses = {
        str(pack.statements[s].review.status) for s in statement_ids if s in pack.statements
    }
    status = "approved" if statuses == {"approved"} else "draft (pending review)"
    return f"Content version {md(pack.version[:19])}, status: {status}."


def make_card(
    *,
    summary: str,
    indicator: Indicator,
    source: Source,
    detail: str | None = None,
    suggestions: list[Suggestion] | None = None,
    links: list[Link] | None = None,
    actionable: bool = True,
) -> Card:
    return Card(
        uuid=new_uuid(),
        summary=clip(summary),
        detail=detail or None,
        indicator=indicator,
        source=source,
        suggestions=suggestions or None,
        selection_behavior="at-most-one" if suggestions else None,
        override_reasons=list(OVERRIDE_REASONS) if actionable else None,
        links=links or None,
    )


# ----------------------------------------------------------------------------- plan card


def plan_summary(plan: Plan) -> str:
    risk = "; ".join(
        f"{r.scheme} {r.group}"
        + ("" if r.status == "determined" or r.status in r.group else f" ({r.status})")
        for r in plan.risk
    )
    parts = [f"ALL plan: {risk or 'risk undetermined'}"]
    if plan.ph_status == "positive":
        parts.append("Ph+, TKI indicated" if plan.tki.indicated else "Ph+")
    critical = sum(1 for a in plan.alerts if a.severity == "critical")
    warnings = sum(1 for a in plan.alerts if a.severity == "warning")
    if critical:
        parts.append(f"{critical} critical alert{'s' if critical > 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings > 1 else ''}")
    if plan.missing_data:
        parts.append(f"{len(plan.missing_data)} data item(s) missing")
    return "; ".join(parts)


def plan_indicator(plan: Plan) -> Indicator:
    severities = {a.severity for a in plan.alerts}
    if "critical" in severities:
        return "critical"
    if "warning" in severities:
        return "warning"
    return "info"


def plan_card(
    plan: Plan,
    pack: ContentPack,
    *,
    link_base: str,
    plan_url: str | None,
    max_alerts: int = 5,
) -> Card:
    lines = ["**Risk**"]
    for r in plan.risk:
        because = "; ".join(md(b) for b in r.because[:3])
        lines.append(
            f"- {md(r.scheme)}: {md(r.group)} ({md(r.status)}){': ' + because if because else ''}"
        )
    if not plan.risk:
        lines.append("- undetermined")
    alerts = sorted(plan.alerts, key=lambda a: SEVERITY_RANK.get(a.severity, 3))
    if alerts:
        lines += ["", "**Key alerts**"]
        lines += [f"- {md(a.severity.upper())}: {md(a.message)}" for a in alerts[:max_alerts]]
        if len(alerts) > max_alerts:
            lines.append(f"- … and {len(alerts) - max_alerts} more in the full plan")
    if plan.missing_data:
        lines += ["", "**Missing data (unknown, not assumed normal)**"]
        lines += [f"- {md(m.field)}: {md(m.why)}" for m in plan.missing_data[:8]]
    if plan.tki.indicated is not None and plan.ph_status != "negative":
        tki = ", ".join(plan.tki.preferred) or "see plan"
        lines += [
            "",
            f"**TKI**: {'indicated' if plan.tki.indicated else 'not indicated'} ({md(tki)})",
        ]
    lines += ["", f"**Transplant**: {md(plan.transplant.recommendation.replace('_', ' '))}"]
    statements = [rec.statement_id for ph in plan.phases for rec in ph.recommendations]
    lines += ["", review_line(pack, statements), "", f"_{md(DISCLAIMER)}_"]
    links: list[Link] = []
    if plan_url and is_absolute(plan_url):
        links.append(Link(label="Open the full plan in allguide", url=plan_url, type="absolute"))
    elif is_absolute(link_base):
        links.append(
            Link(
                label="Open the allguide plan builder",
                url=f"{link_base}/plans/new",
                type="absolute",
            )
        )
    citations = [c for r in plan.risk for c in r.citations]
    return make_card(
        summary=plan_summary(plan),
        indicator=plan_indicator(plan),
        source=source_for(pack, link_base, citations=citations),
        detail="\n".join(lines),
        links=links,
        actionable=bool(plan.alerts),
    )


def data_problems_card(
    problems: Sequence[tuple[str, str]],
    pack: ContentPack,
    *,
    link_base: str,
    title: str = "FHIR data problems",
    max_lines: int = 12,
) -> Card:
    """Problems found in the record: (severity, message) pairs, worst first."""
    ordered = sorted(problems, key=lambda p: SEVERITY_RANK.get(p[0], 3))
    worst = ordered[0][0] if ordered else "info"
    first = ordered[0][1] if ordered else ""
    indicator: Indicator = "warning" if worst in ("critical", "error", "warning") else "info"
    lines = [f"- {md(sev)}: {md(msg)}" for sev, msg in ordered[:max_lines]]
    if len(ordered) > max_lines:
        lines.append(f"- … and {len(ordered) - max_lines} more")
    lines += [
        "",
        "Data that could not be used counts as unknown; check the record and re-open the chart.",
    ]
    return make_card(
        summary=f"{title} ({len(ordered)}): {first}",
        indicator=indicator,
        source=Source(label=SOURCE_LABEL, url=f"{link_base}/" if is_absolute(link_base) else None),
        detail="\n".join(lines),
        actionable=False,
    )


def could_not_evaluate_card(reason: str, *, link_base: str, what: str) -> Card:
    """Fail closed: say plainly that no advice was given, and why."""
    return make_card(
        summary=f"allguide could not {what}: {reason}",
        indicator="warning",
        source=Source(label=SOURCE_LABEL, url=f"{link_base}/" if is_absolute(link_base) else None),
        detail=(
            f"No recommendation was made. Reason: {md(reason)}\n\n"
            "No card does not mean no issue: check the orders against the treating protocol."
        ),
        actionable=False,
    )


# ------------------------------------------------------------------------ finding card


def suggestion_text(s: SuggestedOrder, drug_name: str) -> str:
    per_day = f", {s.per_day} times a day" if s.per_day > 1 else ""
    days = ", ".join(str(d) for d in s.days[:10]) + (" …" if len(s.days) > 10 else "")
    dose = f"{s.dose.amount.normalize():f} {s.dose.unit}"
    route = route_label(s.route)
    return f"{drug_name} {dose} {route}{per_day}, day(s) {days}"


_ORDER_PREFIX = re.compile(r"^order \d+ \(([^)]{1,90})\): ")


def finding_summary(finding: Finding) -> str:
    """'<the order> — <the rule>' for an order; the message itself for the order set."""
    match = _ORDER_PREFIX.match(finding.message)
    if match is None:
        return finding.message
    return f"{match.group(1)} — {finding.title}"


def finding_card(
    finding: Finding,
    source: OrderSource | None,
    pack: ContentPack,
    *,
    link_base: str,
    version: str,
) -> Card:
    """One order-check finding; with a corrected MedicationRequest when the fix is obvious."""
    drug_id = finding.suggestion.drug if finding.suggestion else None
    drug = pack.drugs.get(drug_id) if drug_id else None
    drug_name = drug.name if drug is not None else (drug_id or "")
    lines = [md(finding.message), ""]
    if source is not None:
        lines.append(f"Order: {md(source.label)}")
    lines.append(f"Rule: {md(finding.title)} (`{md(finding.rule)}`, finding `{md(finding.code)}`)")
    suggestions: list[Suggestion] = []
    if finding.suggestion is not None:
        text = suggestion_text(finding.suggestion, drug_name)
        changed = ", ".join(finding.suggestion.changed) or "none"
        lines += ["", f"Suggested order: {md(text)} (changed: {md(changed)})."]
        corrected = corrected_request(source, finding.suggestion) if source else None
        if corrected is not None:
            action = Action(
                type="update",
                description=clip(
                    f"Change {source.label if source else 'the order'} to {text}", 200
                ),
                resource=corrected,
            )
            suggestions.append(
                Suggestion(label=clip(f"Change to {text}", 120), uuid=new_uuid(), actions=[action])
            )
        else:
            lines.append("Change the order by hand: the correction cannot be written into it.")
    if finding.citations:
        lines += ["", "**Sources**"]
        for n, c in enumerate(finding.citations, start=1):
            url = f" <{c.url}>" if is_absolute(c.url) else ""
            lines.append(f"{n}. {md(c.citation)}{url}")
    status = "approved" if finding.review_status == "approved" else "draft (pending review)"
    lines += [
        "",
        f"Content version {md(version[:19])}, status: {status}.",
        "",
        f"_{md(ORDER_NOTE)}_",
    ]
    source_model = source_for(
        pack,
        link_base,
        statement_id=finding.statement_id,
        citations=[c.id for c in finding.citations],
        topic=Coding(system=RULE_SYSTEM, code=finding.code, display=clip(finding.title, 200)),
    )
    return make_card(
        summary=finding_summary(finding),
        indicator=finding.severity,
        source=source_model,
        detail="\n".join(lines),
        suggestions=suggestions,
    )
