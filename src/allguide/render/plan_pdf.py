"""Plan → printable PDF (fpdf2): alerts first, then risk, doses, phases, calendar, references.

Pure: the same plan always gives the same bytes (the PDF creation date is taken from the
plan, never from the clock). A Unicode TTF font (DejaVu) is embedded when the system has
one, so µ, ≥, × and 10⁹ print as written; otherwise the PDF core fonts are used and the
few characters they cannot encode are spelled out (">=", "x", "10^9").
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from allguide.planning.plan import DrugDose, Plan, RegimenOption
from allguide.render.formatting import PHASE_TITLES, amount_text, day_runs, route_label
from allguide.render.formatting import number as _n
from allguide.render.plan_text import _dose

# Searched in order; the first directory holding all three faces wins.
FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
_FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}

# Used only with the core fonts (Latin-1): characters they cannot show, spelled out.
_ASCII = {
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "→": "->",
    "←": "<-",
    "–": "-",
    "—": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "•": "-",
    "…": "...",
    "√": "sqrt",
    "®": "(R)",
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+", strict=True))

_SEVERITY_COLOURS = {"critical": (153, 0, 0), "warning": (133, 77, 0), "info": (40, 40, 40)}
_INK = (20, 20, 20)
_MUTED = (80, 80, 80)
_RULE = (170, 170, 170)
_SHADE = (238, 238, 238)
_PENDING = (153, 0, 0)


def find_unicode_font() -> Path | None:
    """Directory holding the DejaVu faces, or None when the system has none."""
    for folder in FONT_DIRS:
        if all((folder / name).is_file() for name in _FACES.values()):
            return folder
    return None


def transliterate(text: str) -> str:
    """Make text printable with a Latin-1 core font (only used without DejaVu)."""
    out: list[str] = []
    run: list[str] = []  # pending superscript characters, e.g. "⁻⁴" in "10⁻⁴"

    def flush() -> None:
        raw = "".join(run)
        if raw:
            # "m²" stays as it is (Latin-1 has ²); "10⁻⁴" becomes "10^-4".
            fits = all(ch in "¹²³" for ch in raw)
            out.append(raw if fits else "^" + "".join(_SUPERSCRIPTS[ch] for ch in raw))
        run.clear()

    for ch in text:
        if ch in _SUPERSCRIPTS:
            run.append(ch)
            continue
        flush()
        if ch in _ASCII:
            out.append(_ASCII[ch])
            continue
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore")
            out.append(decomposed.decode("latin-1") or "?")
    flush()
    return "".join(out)


class _PlanPdf(FPDF):
    def __init__(self, plan: Plan, font_dir: Path | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.plan = plan
        self.unicode = font_dir is not None
        if font_dir is not None:
            for style, name in _FACES.items():
                self.add_font("DejaVu", style, str(font_dir / name))
            self.family = "DejaVu"
        else:
            self.family = "Helvetica"
        self._widths: dict[tuple[str, str, float, str], float] = {}
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title("allguide: initial treatment plan for ALL")
        self.set_author("allguide")
        self.set_creator("allguide")
        self.set_subject(f"Plan {plan.input_digest[:19]}, content {plan.content_version}")
        self.alias_nb_pages()

    # --------------------------------------------------------------- text helpers

    def t(self, text: str) -> str:
        return text if self.unicode else transliterate(text)

    def font(self, style: str = "", size: float = 9.5) -> None:
        self.set_font(self.family, style, size)

    def para(self, text: str, *, style: str = "", size: float = 9.5, indent: float = 0) -> None:
        """A left-aligned paragraph, wrapped here one word at a time.

        fpdf2's `multi_cell` re-measures the whole line for every character, which made a
        full plan take seconds; measuring each word once keeps it linear.
        """
        self.font(style, size)
        width = self.epw - indent
        for line in self.wrap(self.t(text), width):
            self.set_x(self.l_margin + indent)
            self.cell(width, size * 0.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def width_of(self, text: str) -> float:
        key = (self.font_family, self.font_style, self.font_size_pt, text)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self.get_string_width(text)
        return width

    def wrap(self, text: str, width: float) -> list[str]:
        lines: list[str] = []
        space = self.width_of(" ")
        for paragraph in text.split("\n"):
            line: list[str] = []
            used = 0.0
            for word in paragraph.split(" "):
                w = self.width_of(word)
                if w > width:  # a long URL or identifier: break it by characters
                    if line:
                        lines.append(" ".join(line))
                        line, used = [], 0.0
                    chunk = ""
                    for ch in word:
                        if self.width_of(chunk + ch) > width and chunk:
                            lines.append(chunk)
                            chunk = ""
                        chunk += ch
                    line, used = [chunk], self.width_of(chunk)
                    continue
                extra = w if not line else space + w
                if line and used + extra > width:
                    lines.append(" ".join(line))
                    line, used = [word], w
                else:
                    line.append(word)
                    used += extra
            lines.append(" ".join(line))
        return lines

    def heading(self, text: str, level: int = 2) -> None:
        size = {1: 16.0, 2: 12.5, 3: 10.5}[level]
        # Keep a heading with at least a few lines of what follows it.
        if self.will_page_break(size * 0.6 + 18):
            self.add_page()
        self.ln(2 if level > 2 else 4)
        self.set_text_color(*_INK)
        self.para(text, style="B", size=size)
        if level <= 2:
            self.set_draw_color(*_RULE)
            self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
        self.ln(1.5)

    def bullet(self, text: str, indent: float = 0) -> None:
        self.para(("• " if self.unicode else "- ") + text, indent=indent + 2)

    def grid(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
    ) -> None:
        self.font("", 8.5)
        with self.table(
            col_widths=tuple(widths),
            text_align="LEFT",
            line_height=self.font_size * 1.45,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", fill_color=_SHADE),
            padding=(0.8, 1.2, 0.8, 1.2),
            repeat_headings=1,
        ) as table:
            head = table.row()
            for cell in header:
                head.cell(self.t(cell))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.t(value))
        self.ln(2)

    # --------------------------------------------------------------- page furniture

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.font("", 7.5)
        self.set_text_color(*_MUTED)
        self.cell(
            0,
            4,
            self.t(
                f"allguide plan, input {self.plan.input_digest[:19]}, {self.plan.review.status}"
            ),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_text_color(*_INK)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-13)
        self.font("", 7.5)
        self.set_text_color(*_MUTED)
        self.cell(
            self.epw * 0.8,
            4,
            self.t("Decision support, not a medical order. Verify against the primary sources."),
        )
        self.cell(self.epw * 0.2, 4, f"page {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(*_INK)


def _dose_cell(d: DrugDose) -> str:
    text = _dose(d)
    if d.dose is not None and d.per == "administration" and d.cap and not d.cap_applied:
        text += f" (max {_n(d.cap.amount)} {d.cap.unit})"
    return text


def _option(pdf: _PlanPdf, option: RegimenOption) -> None:
    mark = "PREFERRED" if option.preferred else "alternative"
    pdf.heading(f"{option.name} — {mark}", level=3)
    pdf.para(
        f"Regimen {option.regimen_id}. Why: {option.why}. Review status: {option.review_status}.",
        size=9,
    )
    rows = [
        [
            d.drug,
            route_label(d.route),
            _dose_cell(d),
            day_runs(d.days),
            d.basis,
            d.condition or d.schedule or "",
        ]
        for d in option.drugs
    ]
    pdf.grid(
        ["Drug", "Route", "Dose", "Days", "Basis", "Condition / schedule"],
        rows,
        (16, 12, 26, 14, 18, 20),
    )
    for line in option.excluded_lines:
        pdf.bullet(f"Not given: {line}")


def plan_to_pdf(
    plan: Plan, *, created: dt.datetime | None = None, unicode_font: bool = True
) -> bytes:
    """Render the plan as an A4 PDF.

    `created` sets the document date (default: the plan's start date, so output is
    reproducible). `unicode_font=False` forces the core fonts (plain, searchable text).
    """
    pdf = _PlanPdf(plan, find_unicode_font() if unicode_font else None)
    when = created or dt.datetime.combine(
        plan.start_date or plan.review.last_updated or dt.date(2000, 1, 1),
        dt.time(0, 0),
        tzinfo=dt.UTC,
    )
    pdf.set_creation_date(when if when.tzinfo else when.replace(tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_text_color(*_INK)
    pdf.heading("allguide: initial treatment plan for acute lymphoblastic leukemia", level=1)

    # Disclaimer and review status first: the reader must see both before any dose.
    pdf.set_fill_color(*_SHADE)
    pdf.font("", 8.5)
    pdf.multi_cell(pdf.epw, 4.2, pdf.t(plan.disclaimer), fill=True, padding=2, new_x=XPos.LMARGIN)
    pdf.ln(2)
    review = plan.review
    if review.status != "approved":
        pdf.set_text_color(*_PENDING)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(review.counts.items()))
    pdf.para(
        f"Review status: {review.status.upper()} ({counts})"
        + (
            f"; content last updated {review.last_updated.isoformat()}"
            if review.last_updated
            else ""
        ),
        style="B",
    )
    pdf.set_text_color(*_INK)
    pdf.para(
        f"Population {plan.population}, age {_n(plan.age_years)} years, fitness "
        f"{plan.fitness.replace('_', ' ')}, BCR::ABL1 {plan.ph_status}."
    )
    if plan.bsa:
        pdf.para(
            f"Body surface area {_n(plan.bsa.value_m2)} m² ({plan.bsa.formula}; height "
            f"{_n(plan.bsa.height_cm)} cm, weight {_n(plan.bsa.weight_kg)} kg)."
        )
    else:
        pdf.para("Body surface area not computed: height and weight are needed for m² doses.")
    start = plan.start_date.isoformat() if plan.start_date else "not given"
    pdf.para(
        f"Start of induction (day 1): {start}. Content {plan.content_version}, engine "
        f"{plan.engine_version}, input {plan.input_digest[:19]}.",
        size=8.5,
    )

    pdf.heading("Alerts")
    for alert in plan.alerts:
        pdf.set_text_color(*_SEVERITY_COLOURS[alert.severity])
        pdf.para(
            f"{alert.severity.upper()}  {alert.message}",
            style="B" if alert.severity == "critical" else "",
        )
        pdf.set_text_color(*_INK)
        pdf.para(f"Rule {alert.rule}{_cites(plan, alert.citations)}", size=8, indent=4)

    pdf.heading("Risk")
    for risk in plan.risk:
        pdf.bullet(f"{risk.scheme}: {risk.group} ({risk.status}){_cites(plan, risk.citations)}")
        pdf.para("Because " + "; ".join(risk.because), size=8.5, indent=6)
        if risk.needs:
            pdf.para("Needs: " + ", ".join(risk.needs), size=8.5, indent=6)
    if plan.missing_data:
        pdf.heading("Data still needed")
        for missing in plan.missing_data:
            pdf.bullet(f"{missing.field}: {missing.why}")

    pdf.heading("Philadelphia chromosome (TKI) and transplant")
    tki = plan.tki
    if tki.indicated is None:
        tki_text = "TKI undetermined: " + "; ".join(tki.because)
    elif tki.indicated:
        tki_text = (
            f"TKI indicated. Preferred: {', '.join(tki.preferred)}; alternatives: "
            f"{', '.join(tki.alternatives) or 'none'}. " + "; ".join(tki.because)
        )
    else:
        tki_text = "TKI not indicated (" + "; ".join(tki.because) + ")"
    pdf.bullet(tki_text + _cites(plan, tki.citations))
    transplant = plan.transplant
    pdf.bullet(
        f"Transplant: {transplant.recommendation.replace('_', ' ')}"
        + (" (" + "; ".join(transplant.because) + ")" if transplant.because else "")
        + _cites(plan, transplant.citations)
    )

    for phase in plan.phases:
        pdf.heading(PHASE_TITLES[phase.phase])
        for option in phase.regimen_options:
            _option(pdf, option)
        for rec in phase.recommendations:
            pdf.para(rec.title + _cites(plan, rec.citations), style="B", size=9.5)
            pdf.para(rec.text, size=8.5, indent=3)
            pdf.set_text_color(*_MUTED)
            pdf.para(
                f"Why: rule {rec.rule}; because {'; '.join(rec.because)}. "
                f"Review status: {rec.review_status}.",
                size=8,
                indent=3,
            )
            pdf.set_text_color(*_INK)
            pdf.ln(1)

    if plan.mrd_timepoints:
        pdf.heading("MRD time points")
        pdf.grid(
            ["When", "Why", "Result"],
            [
                [
                    tp.when,
                    tp.why,
                    "pending" if tp.result_percent is None else f"{_n(tp.result_percent)}%",
                ]
                for tp in plan.mrd_timepoints
            ],
            (30, 55, 15),
        )

    if plan.calendar:
        pdf.heading("Induction calendar")
        rows = []
        for day in plan.calendar:
            for item in day.items:
                rows.append(
                    [
                        str(day.day),
                        day.date.strftime("%a %d %b %Y") if day.date else "",
                        item.drug,
                        route_label(item.route),
                        amount_text(item.dose),
                        item.note or "",
                    ]
                )
        pdf.grid(["Day", "Date", "Drug", "Route", "Dose", "Note"], rows, (7, 20, 18, 13, 14, 28))

    pdf.heading("References")
    for ref in plan.references:
        pdf.para(f"[{ref.n}] {ref.citation}" + (f" {ref.url}" if ref.url else ""), size=8)
    pdf.ln(3)
    pdf.para(plan.disclaimer, style="I", size=8)
    return bytes(pdf.output())


def _cites(plan: Plan, ref_ids: Sequence[str]) -> str:
    numbers = {r.id: r.n for r in plan.references}
    shown = [str(numbers[i]) for i in ref_ids if i in numbers]
    return f" [{', '.join(shown)}]" if shown else ""
