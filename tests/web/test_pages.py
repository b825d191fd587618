"""Server-rendered pages: every page renders and is accessible, the plan form keeps what was
typed and explains each problem beside its field, plans download as PDF and iCalendar, and
the editorial pages enforce sign-in, CSRF and the review workflow.

One app (SQLite, seeded content) serves the whole module; the editorial test changes only
`stmt.trials.finding`, which no other test here reads.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from icalendar import Calendar
from web_support import PASSWORD, Api, make_settings, running

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.patient.model import PatientInput
from allguide.planning.engine import DISCLAIMER, build_plan
from allguide.render.plan_ics import plan_to_ics
from allguide.render.plan_pdf import plan_to_pdf, transliterate
from allguide.web.pages.forms import form_groups

HTML = {"Accept": "text/html"}

# ------------------------------------------------------------------ a tiny HTML inspector


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    in_label: bool


@dataclass
class Page:
    """What an accessibility smoke test needs to know about a page."""

    lang: str | None = None
    h1: list[str] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    ids: dict[str, int] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    skip_link: bool = False

    def unlabelled(self) -> list[str]:
        """Form controls without an accessible name (label for=, wrapping label, aria-*)."""
        bad = []
        for c in self.controls:
            if c.tag == "button" or c.attrs.get("type") in ("hidden", "submit", "button"):
                continue
            if not (
                c.attrs.get("id") in self.label_for
                or c.in_label
                or "aria-label" in c.attrs
                or "aria-labelledby" in c.attrs
            ):
                bad.append(f"<{c.tag} name={c.attrs.get('name')!r}>")
        return bad

    def dangling_describedby(self) -> list[str]:
        return [
            ref
            for c in self.controls
            for ref in c.attrs.get("aria-describedby", "").split()
            if ref not in self.ids
        ]

    def duplicate_ids(self) -> list[str]:
        return [i for i, n in self.ids.items() if n > 1]

    def control(self, name: str, value: str | None = None) -> Control:
        for c in self.controls:
            if c.attrs.get("name") == name and (value is None or c.attrs.get("value") == value):
                return c
        raise AssertionError(f"no control named {name!r} (value {value!r})")


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.label_depth = 0
        self.in_h1 = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        self.page.tags.add(tag)
        if "id" in attrs:
            self.page.ids[attrs["id"]] = self.page.ids.get(attrs["id"], 0) + 1
        if tag == "html":
            self.page.lang = attrs.get("lang")
        elif tag == "h1":
            self.in_h1, self.text = True, []
        elif tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.page.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea", "button"):
            self.page.controls.append(Control(tag, attrs, self.label_depth > 0))
        elif tag == "a" and attrs.get("href") == "#main" and "skip-link" in attrs.get("class", ""):
            self.page.skip_link = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self.in_h1 = False
            self.page.h1.append(" ".join("".join(self.text).split()))
        elif tag == "label":
            self.label_depth = max(0, self.label_depth - 1)

    def handle_data(self, data: str) -> None:
        if self.in_h1:
            self.text.append(data)


def inspect(html: str) -> Page:
    parser = _Inspector()
    parser.feed(html)
    return parser.page


def assert_accessible(html: str) -> Page:
    page = inspect(html)
    assert page.lang == "en"
    assert len(page.h1) == 1, page.h1
    assert page.skip_link and "main" in page.ids
    assert {"header", "nav", "main", "footer"} <= page.tags
    assert page.unlabelled() == []
    assert page.dangling_describedby() == []
    assert page.duplicate_ids() == []
    return page


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token field"
    return match.group(1)


def get(client: TestClient, url: str) -> Response:
    return client.get(url, headers=HTML, follow_redirects=False)


def post(client: TestClient, url: str, data: dict[str, Any], *, csrf_from: str) -> Response:
    token = csrf_of(get(client, csrf_from).text)
    return client.post(
        url, data={**data, "csrf_token": token}, headers=HTML, follow_redirects=False
    )


def login(client: TestClient, username: str) -> Response:
    return post(client, "/login", {"username": username, "password": PASSWORD}, csrf_from="/login")


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    directory = tmp_path_factory.mktemp("pages")
    seed: Path = request.getfixturevalue("_sqlite_seed")
    shutil.copyfile(seed, directory / "allguide.db")
    settings = make_settings(f"sqlite:///{directory / 'allguide.db'}", directory / "var")
    with running(settings) as api:
        yield api


@pytest.fixture
def client(site: Api) -> TestClient:
    """A fresh cookie jar (anonymous visitor) on the module's app."""
    return TestClient(site.app, base_url="https://testserver")


CHILD_FORM = {
    "age_years": "4",
    "sex": "female",
    "weight_kg": "16.5",
    "height_cm": "104",
    "lineage": "B",
    "wbc_x10e9_per_l": "12.4",
    "bcr_abl1": "negative",
    "genetics": "ETV6::RUNX1",
    "cns_status": "CNS1",
    "start_date": "2026-01-05",
}


def build(client: TestClient, form: dict[str, Any]) -> str:
    """Submit the plan form; returns the plan's permalink path."""
    response = post(client, "/plans", form, csrf_from="/plans/new")
    assert response.status_code == 303, text_of(response.text)[:500]
    location = response.headers["location"]
    assert re.fullmatch(r"/plans/[A-Za-z0-9_-]{8,32}", location)
    return location


# ------------------------------------------------------------------ every page


PAGES = [
    "/",
    "/?q=What+is+the+initial+treatment+for+ALL%3F&audience=clinician",
    "/?q=my+child+needs+a+spinal+tap%2C+what+is+that&audience=family",
    "/?q=What+is+the+best+pizza+in+Naples&audience=patient",
    "/articles",
    "/articles/initial-treatment?audience=clinician",
    "/articles/initial-treatment?audience=patient",
    "/plans/new",
    "/glossary",
    "/regimens",
    "/regimens/cog-sr-induction-3drug",
    "/statements",
    "/statements?q=dexamethasone&status=draft",
    "/statements/stmt.mrd.end_of_induction",
    "/login",
]


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_and_passes_accessibility_smoke(client: TestClient, url: str) -> None:
    response = get(client, url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert " style=" not in response.text  # the CSP forbids inline styles
    assert_accessible(response.text)


def test_stylesheet_has_focus_styles_and_a_print_stylesheet(client: TestClient) -> None:
    response = get(client, "/static/allguide.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    css = response.text
    assert ":focus-visible" in css and "@media print" in css and ".skip-link" in css
    assert get(client, "/static/../settings.py").status_code == 404


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Text colour on background, as the stylesheet pairs them.
COLOUR_PAIRS = [
    ("ink", "paper"), ("muted", "paper"), ("muted", "wash"), ("link", "paper"),
    ("link-visited", "paper"), ("brand", "info-wash"), ("critical", "critical-wash"),
    ("warning", "warning-wash"), ("info", "info-wash"), ("ok", "ok-wash"),
    ("pending", "pending-wash"), ("paper", "brand"), ("ink", "focus"), ("critical", "paper"),
]  # fmt: skip


def test_colour_pairs_meet_wcag_aa_contrast(client: TestClient) -> None:
    css = get(client, "/static/allguide.css").text
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    for text, background in COLOUR_PAIRS:
        ratio = _contrast(colours[text], colours[background])
        assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}"


def test_unknown_pages_get_the_html_error_page(client: TestClient) -> None:
    for url in ("/statements/stmt.no.such", "/regimens/nope", "/plans/AAAAAAAAAAAAAAAA"):
        response = get(client, url)
        assert response.status_code == 404
        assert_accessible(response.text)
        assert "Reference:" in response.text


# ------------------------------------------------------------------ answers and articles


def test_answer_has_bottom_line_cited_points_references_review_status_and_disclaimer(
    client: TestClient,
) -> None:
    html = get(client, PAGES[1]).text
    text = text_of(html)
    assert "Bottom line" in text
    assert "Pending review" in text and "Last updated" in text
    cited = set(re.findall(r'href="#ref-(\d+)"', html))
    assert cited, "no citation links"
    for n in cited:  # every citation link lands on an item of the reference list
        assert f'id="ref-{n}"' in html
    assert "vincristine" in text.lower()
    assert "Which best describes you?" in text
    assert "Have a follow-up question?" in text
    assert re.search(r'name="conversation" value="[^"]+"', html)
    assert "Professional disclaimer" in text


def test_family_member_gets_plain_language_with_glossary(
    client: TestClient, pack: ContentPack
) -> None:
    html = get(client, PAGES[2]).text
    text = text_of(html)
    assert "Words used here" in text and "<dfn>" in html
    lp = next(g for g in pack.glossary.values() if g.term.lower() == "lumbar puncture")
    assert lp.definition[:40] in text
    # The audience choice is kept, and family members read the patient wording.
    assert re.search(r'<strong aria-current="true">Family member or carer</strong>', html)
    assert "Please read" in text  # the plain-language disclaimer heading


def test_follow_up_question_uses_the_conversation(client: TestClient) -> None:
    first = get(client, "/?q=What+is+the+initial+treatment+for+ALL%3F&audience=clinician").text
    conversation = re.search(r'name="conversation" value="([^"]+)"', first)
    assert conversation
    url = f"/?q=what+about+older+adults%3F&audience=clinician&conversation={conversation[1]}"
    follow = get(client, url)
    assert follow.status_code == 200
    assert "older" in text_of(follow.text).lower()
    assert "Outside what allguide covers" not in follow.text


def test_out_of_scope_question_says_so_kindly(client: TestClient) -> None:
    text = text_of(get(client, PAGES[3]).text)
    assert "Outside what allguide covers" in text
    assert "Bottom line" not in text


def test_overlong_question_is_refused_beside_the_box(client: TestClient) -> None:
    response = get(client, "/?q=" + "a" * 1200)
    assert response.status_code == 422
    page = assert_accessible(response.text)
    assert "q-error" in page.control("q").attrs["aria-describedby"]


def test_article_has_a_version_for_each_audience(client: TestClient) -> None:
    clinician = text_of(get(client, PAGES[5]).text)
    patient = text_of(get(client, PAGES[6]).text)
    assert clinician != patient
    assert "Pending review" in clinician and "Pending review" in patient


# ------------------------------------------------------------------ plan builder


def test_plan_form_has_every_patient_field_with_units(client: TestClient) -> None:
    html = get(client, "/plans/new").text
    page = inspect(html)
    names = {c.attrs.get("name") for c in page.controls}
    for name in PatientInput.model_fields:
        if name == "mrd":
            assert "mrd_end_of_induction" in names
        else:
            assert name in names, name
    assert all(g.id != "other" for g in form_groups()), "describe new patient fields in forms.py"
    text = text_of(html)
    for unit in ("kg", "cm", "×10⁹/L", "mg/dL", "mL/min"):
        assert unit in text


def test_form_error_is_shown_beside_the_field_and_nothing_is_lost(client: TestClient) -> None:
    form = {**CHILD_FORM, "height_cm": "1.04", "tpmt": "poor", "comorbidities": "asthma\nobesity"}
    response = post(client, "/plans", form, csrf_from="/plans/new")
    assert response.status_code == 422
    page = assert_accessible(response.text)
    height = page.control("height_cm")
    assert height.attrs["value"] == "1.04"
    assert height.attrs.get("aria-invalid") == "true"
    assert "f-height_cm-error" in height.attrs["aria-describedby"].split()
    error = re.search(r'id="f-height_cm-error">([^<]+)<', response.text)
    assert error and "did you mean 104" in error[1]
    # Everything else typed is still there.
    assert page.control("age_years").attrs["value"] == "4"
    assert "checked" in page.control("lineage", "B").attrs
    assert "checked" in page.control("genetics", "ETV6::RUNX1").attrs
    assert "checked" in page.control("tpmt", "poor").attrs
    assert "asthma\nobesity" in response.text
    assert 'href="#f-height_cm"' in response.text  # the error summary links to the field


def test_several_problems_each_sit_beside_their_own_field(client: TestClient) -> None:
    form = {
        **CHILD_FORM,
        "wbc_x10e9_per_l": "12400",
        "ecog": "7",
        "mrd_end_of_induction": "150",
        "start_date": "05/01/2026",
    }
    response = post(client, "/plans", form, csrf_from="/plans/new")
    assert response.status_code == 422
    html = response.text
    assert re.search(r'id="f-wbc_x10e9_per_l-error">[^<]*did you mean 12\.4', html)
    assert 'id="f-ecog-error"' in html
    assert re.search(r'id="f-mrd_end_of_induction-error">[^<]*0 to 100', html)
    assert re.search(r'id="f-start_date-error">[^<]*YYYY-MM-DD', html)


def test_missing_age_is_reported_at_the_age_field(client: TestClient) -> None:
    form = {k: v for k, v in CHILD_FORM.items() if k != "age_years"}
    response = post(client, "/plans", form, csrf_from="/plans/new")
    assert response.status_code == 422
    assert re.search(r'id="f-age_years-error">[^<]*age is required', response.text, re.I)


def test_plan_post_without_csrf_token_is_refused(client: TestClient) -> None:
    get(client, "/plans/new")  # has a session, but the form below carries no token
    response = client.post("/plans", data=CHILD_FORM, headers=HTML, follow_redirects=False)
    assert response.status_code == 403
    assert "reload the page" in response.text
    forged = client.post(
        "/plans", data={**CHILD_FORM, "csrf_token": "forged"}, headers=HTML, follow_redirects=False
    )
    assert forged.status_code == 403


def test_plan_page_shows_alerts_first_then_risk_doses_calendar_references(
    client: TestClient,
) -> None:
    location = build(client, CHILD_FORM)
    response = get(client, location)
    assert response.status_code == 200
    html = response.text
    assert_accessible(html)
    text = text_of(html)
    order = [text.index(h) for h in ("Alerts", "Risk", "Induction", "Induction calendar")]
    assert order == sorted(order)
    assert text.index("CRITICAL") < text.index("NCI")
    assert "vincristine" in text and "1.5 mg/m² × 0.69 m²" in text  # dose with its basis
    assert "Preferred" in text and "Why:" in text and "Why this applies:" in text
    assert "Mon 05 Jan 2026" in text  # the dated calendar
    assert "Pending review" in text
    assert DISCLAIMER[:60] in text
    assert f'href="{location}.pdf"' in html and f'href="{location}.ics"' in html
    for n in set(re.findall(r'href="#ref-(\d+)"', html)):
        assert f'id="ref-{n}"' in html


def test_capped_dose_is_marked(client: TestClient) -> None:
    teen = {**CHILD_FORM, "age_years": "14", "weight_kg": "60", "height_cm": "170"}
    text = text_of(get(client, build(client, teen)).text)
    assert re.search(r"Capped at 2 mg computed 2\.\d+ mg", text)


def test_permalink_and_edit_link_restore_the_findings(client: TestClient) -> None:
    location = build(client, {**CHILD_FORM, "comorbidities": "asthma"})
    again = get(client, location).text
    assert again == get(client, location).text
    plan_id = location.rsplit("/", 1)[1]
    form = inspect(get(client, f"/plans/new?from={plan_id}").text)
    assert form.control("height_cm").attrs["value"] == "104"
    assert "checked" in form.control("genetics", "ETV6::RUNX1").attrs
    assert "checked" in form.control("lineage", "B").attrs
    assert form.control("start_date").attrs["value"] == "2026-01-05"


def test_plan_pdf_download(client: TestClient) -> None:
    location = build(client, CHILD_FORM)
    response = client.get(location + ".pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert len(response.content) > 20_000
    assert response.content == client.get(location + ".pdf").content  # reproducible


def test_plan_ics_has_one_all_day_event_per_calendar_day(client: TestClient) -> None:
    location = build(client, CHILD_FORM)
    response = client.get(location + ".ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    plan_page = text_of(get(client, location).text)
    days = sorted(
        {int(d) for d in re.findall(r"\b(\d{1,2}) (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ", plan_page)}
    )
    assert len(events) == len(days) > 0
    starts = [e.decoded("dtstart") for e in events]
    assert all(type(s) is dt.date for s in starts)  # all-day events
    assert starts[0] == dt.date(2026, 1, 5)
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert "vincristine" in str(events[0]["summary"])
    assert "not a medical order" in str(events[0]["description"])


def test_plan_without_start_date_has_no_calendar_download(client: TestClient) -> None:
    location = build(client, {k: v for k, v in CHILD_FORM.items() if k != "start_date"})
    assert ".ics" not in get(client, location).text.split("Download PDF")[1][:300]
    response = get(client, location + ".ics")
    assert response.status_code == 404
    assert "start date" in text_of(response.text)


# ------------------------------------------------------------------ renderers (no web)


@pytest.fixture(scope="module")
def child_plan(pack: ContentPack) -> Any:
    data = {
        "age_years": 4, "weight_kg": 16.5, "height_cm": 104, "lineage": "B",
        "wbc_x10e9_per_l": 12.4, "bcr_abl1": "negative", "cns_status": "CNS1",
    }  # fmt: skip
    return build_plan(parse_patient(data, pack), pack, start_date=dt.date(2026, 1, 5))


def _pdf_text(pdf: bytes) -> str:
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(chunks)


def test_pdf_text_names_the_drugs_doses_and_disclaimer(child_plan: Any) -> None:
    text = _pdf_text(plan_to_pdf(child_plan, unicode_font=False))
    for word in ("vincristine", "dexamethasone", "pegaspargase", "PENDING REVIEW", "Alerts"):
        assert word in text, word
    assert "Decision support for qualified health professionals" in text


def test_pdf_is_reproducible_and_embeds_a_unicode_font_when_present(child_plan: Any) -> None:
    first = plan_to_pdf(child_plan)
    assert first == plan_to_pdf(child_plan)
    if Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists():
        assert b"DejaVu" in first


def test_transliteration_keeps_meaning_without_a_unicode_font() -> None:
    assert transliterate("WBC ≥ 30 ×10⁹/L") == "WBC >= 30 ×10^9/L"
    assert transliterate("MRD 10⁻⁴ at 1.5 mg/m², 5 µg/kg") == "MRD 10^-4 at 1.5 mg/m², 5 µg/kg"


def test_ics_is_deterministic_and_needs_a_start_date(child_plan: Any, pack: ContentPack) -> None:
    assert plan_to_ics(child_plan) == plan_to_ics(child_plan)
    undated = build_plan(parse_patient({"age_years": 4}, pack), pack)
    with pytest.raises(ValueError, match="start date"):
        plan_to_ics(undated)


# ------------------------------------------------------------------ editorial


def test_editor_pages_need_sign_in(client: TestClient) -> None:
    for url in ("/editor", "/editor/audit", "/editor/items/statements/stmt.trials.offer"):
        response = get(client, url)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/editor")


def test_wrong_password_is_explained_and_the_username_kept(client: TestClient) -> None:
    token = csrf_of(get(client, "/login").text)
    response = client.post(
        "/login",
        data={"username": "alice", "password": "wrong password!", "csrf_token": token},
        headers=HTML,
    )
    assert response.status_code == 401
    page = assert_accessible(response.text)
    assert page.control("username").attrs["value"] == "alice"
    assert "not right" in response.text


def test_login_redirects_only_within_the_site(client: TestClient) -> None:
    token = csrf_of(get(client, "/login").text)
    response = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token,
              "next": "//evil.example/x"},
        headers=HTML,
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/editor"


def test_signing_out_ends_the_session_on_the_server(site: Api) -> None:
    """A copy of the session cookie taken before signing out no longer signs anyone in."""
    browser = TestClient(site.app, base_url="https://testserver")
    assert login(browser, "alice").status_code == 303
    assert get(browser, "/editor").status_code == 200
    copied = dict(browser.cookies)
    assert post(browser, "/logout", {}, csrf_from="/editor").status_code == 303
    assert get(browser, "/editor").status_code == 303  # this browser: signed out

    thief = TestClient(site.app, base_url="https://testserver", cookies=copied)
    response = get(thief, "/editor")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")

    other = TestClient(site.app, base_url="https://testserver")  # a second device of alice
    assert login(other, "alice").status_code == 303
    assert get(other, "/editor").status_code == 200  # unaffected by the first sign-out


STMT = "stmt.trials.finding"
ITEM = f"/editor/items/statements/{STMT}"


def test_edit_submit_review_approve_serves_new_text_and_audits_each_step(site: Api) -> None:
    author = TestClient(site.app, base_url="https://testserver")
    reviewer = TestClient(site.app, base_url="https://testserver")
    added = "Re-check the registries before each new phase of treatment."
    old = text_of(get(author, f"/statements/{STMT}").text)
    assert added not in old

    assert login(author, "alice").headers["location"] == "/editor"
    dashboard = get(author, "/editor")
    assert dashboard.status_code == 200 and "Served, pending review" in dashboard.text
    page = assert_accessible(get(author, ITEM).text)
    clinician_text = page.control("clinician_text")
    assert clinician_text.tag == "textarea"
    current = re.search(r'id="edit-clinician_text"[^>]*>([^<]*)<', get(author, ITEM).text)
    assert current
    new_text = unescape(current[1]).strip() + " " + added
    edited = post(
        author,
        f"{ITEM}/edit",
        {
            "title": "Finding and discussing trials",
            "clinician_text": new_text,
            "plain_text": unescape(
                re.search(r'id="edit-plain_text"[^>]*>([^<]*)<', get(author, ITEM).text)[1]  # type: ignore[index]
            ),
            "citations": "ref.nccn-all\nref.pdq-childhood-all",
            "note": "remind readers to re-check registries",
        },
        csrf_from=ITEM,
    )
    assert edited.status_code == 303, text_of(edited.text)[:400]
    # A draft does not change what readers see.
    assert added not in text_of(get(author, f"/statements/{STMT}").text)
    item = get(author, ITEM).text
    assert "<ins>" in item  # the change is shown against the served version

    number = int(re.findall(r"/versions/(\d+)/submit", item)[0])
    submitted = post(author, f"{ITEM}/versions/{number}/submit", {}, csrf_from=ITEM)
    assert submitted.status_code == 303
    # The author cannot approve their own work: refused, and explained on the page.
    own = post(author, f"{ITEM}/versions/{number}/approve", {}, csrf_from=ITEM)
    assert own.status_code == 403
    assert "That did not work" in own.text
    assert "only reviewers" in own.text or "own work" in own.text

    login(reviewer, "bob")
    review_page = get(reviewer, ITEM).text
    assert "Approve and serve" in review_page
    approved = post(
        reviewer,
        f"{ITEM}/versions/{number}/approve",
        {"comment": "checked against NCCN"},
        csrf_from=ITEM,
    )
    assert approved.status_code == 303
    served = text_of(get(reviewer, f"/statements/{STMT}").text)
    assert added in served

    audit = get(reviewer, "/editor/audit")
    assert "Hash chain verified" in audit.text
    rows = [r for r in text_of(audit.text).split(" ") if r.startswith("content.")]
    assert {"content.edit", "content.submit", "content.approve"} <= set(rows)
    history = get(reviewer, f"{ITEM}/history").text
    assert re.search(r"<ins>(?:(?!</ins>).)*Re-check", history, re.S)  # the added words
    assert re.search(r"<del>(?:(?!</del>).)*ref\.pdq-adult-all", history, re.S)
    assert_accessible(history)
    assert_accessible(audit.text)


def test_editorial_post_without_csrf_is_refused(site: Api) -> None:
    author = TestClient(site.app, base_url="https://testserver")
    login(author, "dave")
    response = author.post(
        f"/editor/items/statements/{STMT}/edit",
        data={"clinician_text": "x"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_readers_get_no_session_cookie_until_a_form_needs_one(client: TestClient) -> None:
    answer = get(client, PAGES[1])
    assert "set-cookie" not in answer.headers
    form = get(client, "/plans/new")
    assert "session" in form.headers.get("set-cookie", "")
