"""The four user journeys of issue #4, in a real browser (no JavaScript of ours is needed)."""

from __future__ import annotations

import re

from browser_accounts import PASSWORD
from playwright.sync_api import Page, expect

QUESTION = "What is the initial treatment for acute lymphoblastic leukemia?"


def test_ask_a_question_and_follow_a_citation_to_its_reference(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link is the first stop and becomes visible
    expect(page.locator(".skip-link")).to_be_focused()
    expect(page.locator(".skip-link")).to_be_in_viewport()

    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_label("Health professional").check()
    page.get_by_role("button", name="Ask").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    expect(page.get_by_role("heading", name="Bottom line")).to_be_visible()
    expect(page.get_by_text("Pending review", exact=True).first).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?q=What\+is\+the\+initial"))  # linkable

    citation = page.locator("sup.cite a").first
    target = citation.get_attribute("href")
    assert target and re.fullmatch(r"#ref-\d+", target)
    citation.click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    reference = page.locator(target)
    expect(reference).to_be_in_viewport()
    expect(reference).to_contain_text(re.compile(r"PMID|doi|http", re.I))


def test_switch_audience_to_patient_gives_plain_words_and_a_glossary(page: Page) -> None:
    page.goto("/?q=" + QUESTION.replace(" ", "+") + "&audience=clinician")
    clinician_bottom_line = page.locator(".bottom-line p").inner_text()
    expect(page.get_by_role("heading", name="Words used here")).to_have_count(0)

    page.get_by_role("navigation", name="Which best describes you?").get_by_role(
        "link", name="Patient"
    ).click()

    expect(page).to_have_url(re.compile(r"audience=patient"))
    expect(page.locator(".bottom-line p")).not_to_have_text(clinician_bottom_line)
    glossary = page.get_by_role("complementary", name="Words used here")
    expect(glossary).to_be_visible()
    expect(glossary.locator("dfn").first).to_be_visible()
    expect(page.get_by_role("heading", name="Please read")).to_be_visible()


def test_plan_form_error_is_fixed_then_doses_shown_and_pdf_downloads(page: Page) -> None:
    page.goto("/plans/new")
    page.get_by_label("Age at diagnosis").fill("4")
    page.get_by_label("Weight").fill("16.5")
    page.get_by_label("Height").fill("1.7")  # metres by mistake
    page.get_by_label("B-cell (B-ALL)").check()
    page.get_by_label("White-cell count at diagnosis").fill("12.4")
    page.get_by_label("Start date of induction (day 1)").fill("2026-01-05")
    page.get_by_role("button", name="Build plan").click()

    height = page.get_by_label("Height")
    expect(height).to_have_attribute("aria-invalid", "true")
    expect(height).to_have_accessible_description(re.compile(r"did you mean 170"))
    expect(page.locator("#f-height_cm-error")).to_be_visible()
    expect(height).to_have_value("1.7")
    expect(page.get_by_label("Weight")).to_have_value("16.5")
    expect(page.get_by_label("B-cell (B-ALL)")).to_be_checked()
    expect(page.get_by_label("Start date of induction (day 1)")).to_have_value("2026-01-05")

    page.locator(".error-summary a").first.click()  # the summary jumps to the field
    expect(page).to_have_url(re.compile(r"#f-height_cm$"))

    height.fill("104")
    page.get_by_role("button", name="Build plan").click()
    expect(page).to_have_url(re.compile(r"/plans/[A-Za-z0-9_-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Initial treatment plan for ALL")
    induction = page.locator(
        "section", has=page.get_by_role("heading", name="Induction", exact=True)
    )
    expect(
        induction.get_by_role("rowheader", name=re.compile("^vincristine")).first
    ).to_be_visible()
    expect(induction).to_contain_text("1.5 mg/m² × 0.69 m²")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    path = download.path()
    assert path is not None
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000


def _sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


STATEMENT = "stmt.trials.offer"


def test_author_edits_submits_reviewer_approves_and_audit_shows_each_step(page: Page) -> None:
    added = "Ask about trials again at each new phase."
    page.goto(f"/statements/{STATEMENT}")
    expect(page.locator(".statement-text")).not_to_contain_text(added)

    _sign_in(page, "alice")
    page.goto(f"/editor/items/statements/{STATEMENT}")
    text = page.get_by_label("Text for health professionals")
    text.fill(text.input_value() + " " + added)
    page.get_by_label("What changed and why").first.fill("prompt re-asking at each phase")
    page.get_by_role("button", name="Save as new draft").first.click()
    expect(page.get_by_role("status")).to_contain_text("new draft version is saved")
    page.get_by_role("button", name=re.compile(r"Submit version \d+ for review")).click()
    expect(page.get_by_role("status")).to_contain_text("Submitted for review")
    # Still the old text for readers until a reviewer approves.
    page.goto(f"/statements/{STATEMENT}")
    expect(page.locator(".statement-text")).not_to_contain_text(added)
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, "bob")
    page.goto(f"/editor/items/statements/{STATEMENT}")
    page.get_by_label("Comment").fill("Wording checked against the NCCN guideline.")
    page.get_by_role("button", name="Approve and serve").click()
    expect(page.get_by_role("status")).to_contain_text("now served")

    page.goto(f"/statements/{STATEMENT}")
    expect(page.locator(".statement-text")).to_contain_text(added)

    page.goto("/editor/audit")
    expect(page.locator("#chain-status")).to_contain_text("Hash chain verified")
    rows = page.locator("tbody tr")
    for who, action in (
        ("bob", "content.approve"),
        ("alice", "content.submit"),
        ("alice", "content.edit"),
    ):
        expect(
            rows.filter(has_text=action).filter(has_text=who).filter(has_text=STATEMENT)
        ).to_have_count(1)
