"""The catalogues (floorwatch/locale) and the language's conventions for numbers, money and weeks.

The catalogue check: every message the code marks (found the way `pybabel extract -F babel.cfg`
finds them) is in every language's .po, translated, not fuzzy, with the same {placeholders};
and the .po holds no message the code no longer has.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from floorwatch.errors import InvalidRequest
from floorwatch.i18n import (
    SOURCE_LANGUAGE,
    catalogue_path,
    format_money,
    format_number,
    format_percent,
    format_week,
    gettext,
    language,
    languages,
    negotiate,
)

REPO = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in languages() if lang != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"\{(\w*)\}")
THIN = "\u202f"  # narrow no-break space, the Swedish thousands separator in print
NBSP = "\u00a0"


def code_messages() -> dict[str, list[str]]:
    """msgid -> files, as `pybabel extract -F babel.cfg -k N_` finds them."""
    with (REPO / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = {}
    keywords = {"_": None, "gettext": None, "N_": None}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=keywords
    ):
        found.setdefault(str(message), []).append(filename)
    return found


def test_babel_cfg_covers_every_package_that_translates() -> None:
    messages = code_messages()
    files = {f.split("/")[0] for where in messages.values() for f in where}
    assert files == {"analytics", "api", "dashboards", "floorwatch"}
    # _() inside f-strings is found too (Babel's own Python extractor misses those before 3.12)
    assert "League table" in messages and "Registry hash" in messages
    assert len(messages) > 200


def test_sources_and_languages() -> None:
    assert languages() == ("en", "sv")
    assert not catalogue_path("en").exists()  # English is the source language


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_in_the_catalogue(lang: str) -> None:
    with catalogue_path(lang).open("rb") as source:
        catalogue = read_po(source, locale=lang)
    entries = {m.id: m for m in catalogue if isinstance(m.id, str) and m.id}  # no plurals here
    code = code_messages()
    missing = sorted(set(code) - set(entries))
    assert not missing, f"not in {catalogue_path(lang)} (run pybabel update): {missing}"
    obsolete = sorted(set(entries) - set(code))
    assert not obsolete, f"in the catalogue but no longer in the code: {obsolete}"
    for msgid, entry in entries.items():
        string = entry.string
        assert isinstance(string, str) and string.strip(), f"untranslated: {msgid!r}"
        assert not entry.fuzzy, f"fuzzy (not used until confirmed): {msgid!r}"
        assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        # HTML in a message: the translation keeps the same tags
        assert re.findall(r"</?\w+>", string) == re.findall(r"</?\w+>", msgid), msgid


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_running_code_uses_the_catalogue(lang: str) -> None:
    with catalogue_path(lang).open("rb") as source:
        catalogue = read_po(source, locale=lang)
    with language(lang):
        for entry in catalogue:
            if entry.id:
                assert gettext(str(entry.id)) == entry.string
    assert gettext("Dry time share") == "Dry time share"  # outside a language block: English


def test_swedish_kpi_and_school_year_words() -> None:
    with language("sv"):
        names = [
            gettext(m)
            for m in (
                "Dry time share",
                "Clean time share",
                "Wet recovery (p90)",
                "Slip exposure",
                "Dirt capture",
                "Data availability",
                "autumn break",
                "winter sports break",
            )
        ]
    assert names == [
        "Torr tid",
        "Ren tid",
        "Återhämtning efter väta (p90)",
        "Halkexponering",
        "Smutsavskiljning",
        "Datatillgänglighet",
        "höstlov",
        "sportlov",
    ]


def test_swedish_numbers_money_and_weeks() -> None:
    with language("sv"):
        assert format_number(1800.5, 1) == f"1{THIN}800,5"
        assert format_number(1234567) == f"1{THIN}234{THIN}567"
        assert format_number(-0.35, 2) == "−0,35"  # the typographic minus
        assert format_number(-0.001, 2) == "0,00"  # no "minus nothing"
        assert format_percent(0.912) == f"91,2{NBSP}%"
        assert format_money(1800) == f"1{THIN}800{NBSP}kr"
        assert format_money(-1800, signed=True) == f"−1{THIN}800{NBSP}kr"
        assert format_money(250, signed=True) == f"+250{NBSP}kr"
        assert format_week(date(2026, 10, 28)) == f"v.{NBSP}44"
        assert format_week(date(2027, 1, 1)) == f"v.{NBSP}53"  # ISO weeks: 1 Jan 2027 is in 53
    with language("en"):
        assert format_number(1800.5, 1) == "1,800.5"
        assert format_percent(0.912) == "91.2%"
        assert format_money(1800) == f"SEK{NBSP}1,800"
        assert format_money(-1800, signed=True) == f"-SEK{NBSP}1,800"
        assert format_week(date(2026, 10, 28)) == "week 44"


def test_an_unknown_language_is_refused_with_the_ones_there_are() -> None:
    with (
        pytest.raises(InvalidRequest, match="'de' has no catalogue; available: en, sv"),
        language("de"),
    ):
        pass


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("de-DE", "sv"),  # nothing supported: the default
        ("*", "sv"),
        ("en;q=0, sv;q=0.1", "sv"),  # q=0 means "not this one"
        ("en;q=0.4, sv;q=0.6", "sv"),
        ("en;q=banana, de", "sv"),  # an unreadable weight: that entry is skipped
        ("\ud800;q=1", "sv"),
        ("", "sv"),
        (None, "sv"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert negotiate(header, "sv") == expected
