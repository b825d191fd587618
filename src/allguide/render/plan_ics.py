"""Plan calendar → iCalendar (.ics): one all-day event per treatment day.

Pure and deterministic: event UIDs come from a digest of the plan (input digest, content
and engine version, start date), and DTSTAMP from the plan's start date unless the caller
passes the time the plan was stored, so the same plan always gives the same bytes and a
calendar re-import updates events instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from icalendar import Calendar, Event

from allguide.planning.plan import CalendarDay, CalendarItem, Plan
from allguide.render.formatting import ROUTE_LABELS

PRODID = "-//allguide//ALL treatment plan//EN"
_ROUTES = {**ROUTE_LABELS, "po": "by mouth"}  # a calendar is read by families


class NoCalendarError(ValueError):
    """The plan has no dated calendar (no start date, or no day-by-day induction)."""


def plan_digest(plan: Plan) -> str:
    """Stable identity of this plan's calendar: same input, content and start → same id."""
    key = "|".join(
        (
            plan.input_digest,
            plan.content_version,
            plan.engine_version,
            plan.start_date.isoformat() if plan.start_date else "",
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()


def _item_text(item: CalendarItem) -> str:
    route = _ROUTES.get(item.route, item.route)
    if item.dose is None or item.dose.amount is None:
        text = f"{item.drug} {route} (dose per protocol)"
    else:
        text = f"{item.drug} {item.dose.amount.normalize():f} {item.dose.unit} {route}"
    return f"{text} ({item.note})" if item.note else text


def _summary(day: CalendarDay) -> str:
    return f"ALL plan day {day.day}: " + "; ".join(_item_text(i) for i in day.items)


def _description(plan: Plan, day: CalendarDay) -> str:
    lines = [f"Day {day.day} of induction (day 1 = {plan.start_date}).", ""]
    lines += [f"- {_item_text(i)} [regimen {i.regimen_id}]" for i in day.items]
    lines += [
        "",
        f"Review status: {plan.review.status}.",
        f"Plan input {plan.input_digest[:19]}, content {plan.content_version}.",
        "",
        plan.disclaimer,
    ]
    return "\n".join(lines)


def plan_to_ics(plan: Plan, *, stamp: dt.datetime | None = None) -> bytes:
    """Render the dated induction calendar. Raises `NoCalendarError` without dates."""
    if plan.start_date is None or not plan.calendar:
        raise NoCalendarError(
            "this plan has no dated calendar: give a start date (day 1 of induction)"
        )
    digest = plan_digest(plan)
    when = stamp or dt.datetime.combine(plan.start_date, dt.time(0, 0), tzinfo=dt.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"ALL plan from {plan.start_date.isoformat()} (pending review)")
    for day in plan.calendar:
        if day.date is None:  # cannot happen with a start date; keep the type checker honest
            continue
        event = Event()
        event.add("uid", f"{digest[:32]}-day{day.day}@allguide")
        event.add("dtstamp", when.astimezone(dt.UTC))
        event.add("dtstart", day.date)
        event.add("dtend", day.date + dt.timedelta(days=1))
        event.add("summary", _summary(day))
        event.add("description", _description(plan, day))
        event.add("transp", "TRANSPARENT")
        event.add("categories", ["ALL treatment plan"])
        cal.add_component(event)
    return bytes(cal.to_ical())
