"""GET /api/v1/reports/{period} in the language asked for: ?lang= first, then Accept-Language,
then the language the registry's contracts name (Swedish for the pilot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx2 import Response

from tests.api.conftest import Api
from tests.api.pilot_data import PERIOD


@pytest.fixture
def reports(api: Api) -> Iterator[Path]:
    """The report of PERIOD in both languages beside the default file pilot_data writes
    (removed after: other tests expect the default file alone)."""
    folder = api.settings.reports_dir
    written = []
    for lang, title in (("sv", "Floorwatch rapport 2026-10"), ("en", "Floorwatch report 2026-10")):
        path = folder / f"report-{PERIOD}.{lang}.html"
        path.write_text(f"<!doctype html><html lang='{lang}'><h1>{title}</h1></html>")
        written.append(path)
    yield folder
    for path in written:
        path.unlink()


def _get(api: Api, key: str, headers: dict[str, str] | None = None, **params: str) -> Response:
    return api.client.get(
        f"/api/v1/reports/{PERIOD}",
        params=params,
        headers={"Authorization": f"Bearer {api.tokens[key]}", **(headers or {})},
    )


def test_the_full_report_in_the_language_asked_for(api: Api, reports: Path) -> None:
    default = _get(api, "procurement")
    assert default.status_code == 200 and "<html lang='sv'>" in default.text  # the pilot's
    assert default.headers["content-language"] == "sv"
    assert "accept-language" in default.headers["vary"].lower()
    english = _get(api, "procurement", lang="en")
    assert english.status_code == 200 and "Floorwatch report 2026-10" in english.text
    assert english.headers["content-language"] == "en"
    browser = _get(api, "procurement", {"Accept-Language": "en-GB,en;q=0.9,sv;q=0.5"})
    assert "<html lang='en'>" in browser.text
    swedish_browser = _get(api, "procurement", {"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.8"})
    assert "<html lang='sv'>" in swedish_browser.text
    # ?lang= wins over the header; a language without a catalogue falls back for the header only
    both = _get(api, "procurement", {"Accept-Language": "en"}, lang="sv")
    assert "<html lang='sv'>" in both.text
    german = _get(api, "procurement", {"Accept-Language": "de-DE"})
    assert german.status_code == 200 and "<html lang='sv'>" in german.text


def test_an_unknown_language_is_a_clear_422(api: Api, reports: Path) -> None:
    for lang in ("de", "x" * 17, "%ED%A0%80", "%FF"):  # the last two: no UTF-8 / a lone surrogate
        response = api.client.get(
            f"/api/v1/reports/{PERIOD}?lang={lang}",
            headers={"Authorization": f"Bearer {api.tokens['procurement']}"},
        )
        assert response.status_code == 422, (lang, response.text)
    response = _get(api, "procurement", lang="de")
    assert "^(en|sv)$" in response.text  # the languages there are


def test_a_report_written_in_one_language_only_is_still_served(api: Api) -> None:
    """Reports written before they came in every language: the one file there is."""
    response = _get(api, "procurement", lang="en")
    assert response.status_code == 200 and "Floorwatch report 2026-10" in response.text
    assert "content-language" not in response.headers  # its language is not known


def test_a_suppliers_view_in_swedish_and_english(api: Api) -> None:
    swedish = _get(api, "supplier_entre")
    assert swedish.status_code == 200
    assert "<html lang='sv'>" in swedish.text and "Floorwatch rapport 2026-10" in swedish.text
    assert "Resultat endast för entre-ren" in swedish.text and "ersättning" in swedish.text
    assert "\u00a0kr" in swedish.text and "SEK" not in swedish.text
    english = _get(api, "supplier_entre", {"Accept-Language": "en"})
    assert "Results for entre-ren only" in english.text and "SEK" in english.text
    assert swedish.headers["content-language"] == "sv"
    assert english.headers["content-language"] == "en"
