"""The report in Swedish and English: every text from the catalogue, Swedish numbers and money,
the charts' words too, and a print stylesheet that files as A4 (tests/demo prints it to PDF)."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest
from matplotlib.text import Text

import analytics.report as report
from analytics.report import build_report, write_report
from floorwatch.i18n import catalogue_path
from floorwatch.localtime import day_bounds

THIN, NBSP = "\u202f", "\u00a0"
# Words an English text cannot do without, and Swedish has not: any of them in the Swedish
# report is a text that escaped the catalogue.
ENGLISH_WORDS = {
    "the", "and", "of", "with", "is", "are", "from", "for", "per day", "to", "no", "not",
    "which", "this", "that", "score", "payment", "days", "excluded", "rain", "wet", "dry",
}  # fmt: skip


def visible_text(page: str) -> str:
    """What a reader sees: no style, no markup, no code (commands and hashes)."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def translated_messages() -> dict[str, str]:
    """English msgid -> Swedish, for the messages whose Swedish differs."""
    from babel.messages.pofile import read_po

    with catalogue_path("sv").open("rb") as source:
        catalogue = read_po(source, locale="sv")
    return {str(m.id): str(m.string) for m in catalogue if m.id and m.string != m.id}


class ChartWords:
    """Collects every text drawn in the report's charts (titles, labels, ticks, legends)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        original = report._png

        def collecting(figure: plt.Figure) -> str:
            figure.canvas.draw()  # tick labels exist once drawn
            self.texts += [t.get_text() for t in figure.findobj(Text) if t.get_text().strip()]
            return original(figure)

        monkeypatch.setattr(report, "_png", collecting)


def _has_english(text: str, messages: dict[str, str]) -> list[str]:
    # Registry ids (skane-entrance-2026, trb-vastervang-main) are data, not words to translate.
    text = re.sub(r"\b[a-z0-9]+(?:[-_.][a-z0-9]+)+\b", " ", text)
    found = [m for m in messages if len(m) > 3 and re.search(rf"\b{re.escape(m)}\b", text)]
    lowered = f" {text.lower()} "
    found += [w for w in ENGLISH_WORDS if re.search(rf"\b{re.escape(w)}\b", lowered)]
    return found


@pytest.fixture(scope="module")
def swedish(fair: Any, request: pytest.FixtureRequest) -> tuple[str, list[str]]:
    placed, _, scored = fair
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)
    charts = ChartWords(monkeypatch)
    return build_report(scored, placed, "sv"), charts.texts


def test_the_swedish_report_has_no_english_left(swedish: tuple[str, list[str]]) -> None:
    page, _ = swedish
    assert '<html lang="sv">' in page
    text = visible_text(page)
    assert not _has_english(text, translated_messages()), _has_english(text, translated_messages())
    for heading in ("Rangordning", "Leverantörer och installationer", "Reproducerbarhet"):
        assert re.search(rf"<h2[^>]*>{heading}</h2>", page), heading
    for kpi in ("Torr tid", "Ren tid", "Återhämtning efter väta", "Halkexponering"):
        assert kpi in text
    assert "Smutsavskiljning" in text and "Datatillgänglighet" in text


def test_the_swedish_charts_speak_swedish(swedish: tuple[str, list[str]]) -> None:
    _, texts = swedish
    words = " ".join(texts)
    assert not _has_english(words, translated_messages()), _has_english(
        words, translated_messages()
    )
    # the league chart's axis and the expected-untreated chart's legend
    assert "undviken andel av utfallet utan lösningen" in texts
    assert "förväntat utan lösningen" in texts and "fukt över torrt, %-minuter" in texts
    assert any(t.startswith("SMHI-station ") for t in texts)
    weeks = [t for t in texts if re.fullmatch(rf"v\.{NBSP}\d{{1,2}}", t)]
    assert {"v.\u00a041", "v.\u00a042"} <= set(weeks)  # the trend chart's weeks of October
    ticks = [t for t in texts if re.fullmatch(r"[−\d\u202f,]+", t)]
    assert any("," in t for t in ticks), ticks  # decimal comma on the axes
    assert not [t for t in texts if re.fullmatch(r"-?\d+\.\d+", t)]  # no decimal point


def test_swedish_numbers_and_money_in_the_report(swedish: tuple[str, list[str]], fair) -> None:
    page, _ = swedish
    text = visible_text(page)
    _, _, scored = fair
    payment = scored.scorecards[0].document["payment"]["payment_sek"]
    expected = f"{round(payment):,}".replace(",", THIN) + f"{NBSP}kr"
    assert expected in text, expected  # "25 000 kr"
    assert re.search(rf"ersättning \d{{1,3}}(?:{THIN}\d{{3}})+{NBSP}kr", text)
    assert re.search(rf"bonus/vite [+−]?\d[\d{THIN}]*{NBSP}kr", text)
    assert "SEK" not in text
    assert re.search(rf"\b\d{{1,3}},\d{NBSP}%", text)  # "91,2 %"
    assert re.search(r"\b0,\d\d\b", text)  # scores with a decimal comma
    # no decimal point anywhere a reader looks (the code version 0.1.0 is no decimal)
    assert not re.findall(r"(?<![\d.])\d+\.\d+(?![\d.])", text)
    assert "1,000" not in text and f"1{THIN}000" in text


def test_the_english_report_is_english(fair) -> None:
    placed, _, scored = fair
    page = build_report(scored, placed, "en")
    text = visible_text(page)
    assert '<html lang="en">' in page
    assert "League table" in text and "Dry time share" in text
    assert re.search(r"payment SEK\xa0\d{1,3}(?:,\d{3})+", text)
    assert "Rangordning" not in text and " kr" not in text


def test_school_breaks_in_the_period_with_their_swedish_names(fair) -> None:
    placed, _, scored = fair
    start, end = day_bounds(date(2026, 10, 1), date(2026, 10, 31))
    october = dataclasses.replace(scored, period="2026-10", start=start, end=end)
    assert "höstlov v.\u00a044 (2026-10-26–2026-10-30)" in visible_text(
        build_report(october, placed, "sv")
    )
    assert "autumn break week 44 (2026-10-26 to 2026-10-30)" in visible_text(
        build_report(october, placed, "en")
    )


def test_the_print_stylesheet_files_as_a4(swedish: tuple[str, list[str]], fair) -> None:
    page, _ = swedish
    _, _, scored = fair
    assert "@page { size: A4;" in page
    suppliers = {c.document["supplier"] for c in scored.scorecards}
    assert page.count("<section class='supplier'>") == len(suppliers) == 3
    assert ".supplier, .chapter, .repro-page { break-before: page; }" in page
    assert ".chart, .charted { break-inside: avoid; }" in page
    charts = page.count("<figure class='chart'>")
    assert charts == page.count("<img") >= 3  # every chart in a figure kept whole
    repro = page[page.index('<section class="repro-page">') :]
    assert "Registrets kontrollsumma" in repro and "Metod" not in repro


def test_write_report_files_every_language_and_the_registrys_as_the_default(
    fair, tmp_path: Path
) -> None:
    placed, _, scored = fair
    assert placed.language == "sv"
    path = write_report(scored, placed, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    stem = f"report-{scored.period}"
    assert names == [f"{stem}.en.html", f"{stem}.html", f"{stem}.sv.html"]
    assert path.read_text() == (tmp_path / f"{stem}.sv.html").read_text()
    write_report(scored, placed, tmp_path, lang="en")  # `floorwatch score --lang en`
    assert path.read_text() == (tmp_path / f"{stem}.en.html").read_text()
    assert '<html lang="en">' in path.read_text()
