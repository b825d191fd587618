"""Order-check result → JSON text or a plain-text report (for the command line)."""

from __future__ import annotations

import json

from allguide.safety.result import Finding, OrderCheckResult, SuggestedOrder


def result_to_dict(result: OrderCheckResult) -> dict[str, object]:
    """JSON-ready data: amounts are numbers, field order is the model's."""
    return result.model_dump(mode="json")


def result_to_json(result: OrderCheckResult) -> str:
    return json.dumps(result_to_dict(result), ensure_ascii=False, indent=2) + "\n"


def _suggestion_text(s: SuggestedOrder) -> str:
    per_day = f" × {s.per_day}/day" if s.per_day > 1 else ""
    days = ", ".join(str(d) for d in s.days)
    amount = f"{s.dose.amount.normalize():f}"
    return f"{s.drug} {amount} {s.dose.unit}{per_day} {s.route}, day {days}"


def _finding_text(f: Finding, numbers: dict[str, int]) -> list[str]:
    lines = [f"{f.severity.upper()} {f.code}", f"  {f.message}"]
    if f.suggestion is not None:
        lines.append(
            f"  suggested: {_suggestion_text(f.suggestion)} (changed: "
            f"{', '.join(f.suggestion.changed) or 'nothing'})"
        )
    refs = " ".join(f"[{numbers[c.id]}]" for c in f.citations)
    status = "draft, pending review" if f.review_status != "approved" else "approved"
    lines.append(f"  rule {f.rule}: {f.title} ({status}) {refs}".rstrip())
    return lines


def render_text(result: OrderCheckResult) -> str:
    c = result.counts
    phase = f" ({result.phase})" if result.phase else ""
    out = [
        f"Order check{phase}: {c.critical} critical, {c.warning} warning, {c.info} info",
        f"Content {result.content_version}, review status: {result.review}",
        "",
    ]
    numbers: dict[str, int] = {}
    references: list[str] = []
    for f in result.findings:
        for cit in f.citations:
            if cit.id not in numbers:
                numbers[cit.id] = len(numbers) + 1
                url = f" {cit.url}" if cit.url else ""
                references.append(f"[{numbers[cit.id]}] {cit.citation}{url}")
    if not result.findings:
        out.append("No findings from the checks that ran.")
    for f in result.findings:
        out.extend(_finding_text(f, numbers))
        out.append("")
    if references:
        out.append("References")
        out.extend(references)
        out.append("")
    out.append(f"Checked rules: {', '.join(result.checked_rules)}")
    out.append("")
    out.append(result.disclaimer)
    return "\n".join(out) + "\n"
