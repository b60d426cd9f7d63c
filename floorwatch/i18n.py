"""Languages as data: the report, the dashboards and the alerts in the reader's language.

Every text a reader sees is written in English in the code, wrapped in `gettext` (imported as
`_`), or marked with `N_` where it is defined before a language is chosen. Its translations live
in one gettext catalogue per language, `floorwatch/locale/<lang>/LC_MESSAGES/floorwatch.po`: the
one file a translator edits. The catalogues are read from the .po source at run time (compiled
in memory with Babel), so a clone, `pip install -e .` and `pip install .` all have them without
a build step. English is the source language and needs no catalogue.

Numbers, money, dates and weeks follow the language's conventions through Babel's CLDR data,
e.g. Swedish: "1 800 kr", "91,2 %", "−0,35", "v. 44", dates ISO 8601 (2026-10-05) everywhere.

    with language("sv"):
        title = _("Dry time share")       # "Torr tid"
        money = format_money(1800)        # "1 800 kr"
"""

from __future__ import annotations

import ast
import gettext as _gettext
import io
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache
from pathlib import Path
from typing import IO

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_minus_sign_symbol

from floorwatch.errors import InvalidRequest

DOMAIN = "floorwatch"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"  # the msgids: the code's own text
DEFAULT_LANGUAGE = "sv"  # Swedish municipalities' documents are in Swedish (språklagen 2009:600)

# Print typography on top of CLDR: Swedish groups thousands with a thin space; CLDR gives a full
# no-break space. U+202F (narrow no-break space) is thin and never breaks a number over lines.
_GROUP_SEPARATOR = {"sv": "\u202f"}

_current: ContextVar[str] = ContextVar("floorwatch_language", default=SOURCE_LANGUAGE)


def catalogue_path(lang: str) -> Path:
    """The .po file of a language (English has none: it is the source)."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def languages() -> tuple[str, ...]:
    """Every language there is a catalogue for, and English: adding a folder adds a language."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple(sorted({SOURCE_LANGUAGE, *found}))


def check_language(lang: str) -> str:
    """`lang` if Floorwatch speaks it, else InvalidRequest naming the ones it speaks."""
    if lang not in languages():
        raise InvalidRequest(
            f"language {lang!r} has no catalogue; available: {', '.join(languages())}"
        )
    return lang


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of a language (fuzzy entries are left out: they fall back to
    English until a translator confirms them)."""
    if check_language(lang) == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    with catalogue_path(lang).open("rb") as source:
        catalogue = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


@contextmanager
def language(lang: str) -> Iterator[str]:
    """Within the block, `gettext` and the format functions speak `lang`."""
    token = _current.set(check_language(lang))
    try:
        yield lang
    finally:
        _current.reset(token)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    """`message` in the current language."""
    return translations(_current.get()).gettext(message)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined (gettext's conventional name, which
    the extractor knows); translate it with `gettext` where it is used: module constants exist
    before any language is chosen."""
    return message


# --- numbers, money, dates --------------------------------------------------------------------
@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def format_number(value: float, digits: int = 0) -> str:
    """`value` rounded to `digits` decimals with the language's separators and minus sign
    (sv: "1 800,5", "−0,35"; en: "1,800.5", "-0.35")."""
    lang = _current.get()
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    text = format_decimal(abs(value), format=pattern, locale=_locale(lang))
    if lang in _GROUP_SEPARATOR:
        text = text.replace("\xa0", _GROUP_SEPARATOR[lang])
    if value < 0 and re.search(r"[1-9]", text):  # no "−0"
        text = get_minus_sign_symbol(_locale(lang)) + text
    return text


def format_signed(value: float, digits: int = 0) -> str:
    """Like format_number, with an explicit + for positive values (bonus/malus)."""
    text = format_number(value, digits)
    return "+" + text if value > 0 and re.search(r"[1-9]", text) else text


def format_percent(share: float, digits: int = 1) -> str:
    """A share 0..1 as a percentage the language's way (sv: "91,2 %", en: "91.2%")."""
    pattern = _locale(_current.get()).percent_formats[None].pattern
    number = format_number(share * 100, digits)
    return re.sub(r"[#0,.]+", lambda _: number, pattern.split(";")[0], count=1)


def format_money(sek: float, signed: bool = False) -> str:
    """Whole kronor with the language's currency symbol (sv: "1 800 kr", en: "SEK 1,800")."""
    lang = _current.get()
    symbol = _locale(lang).currency_symbols.get("SEK", "SEK")
    number = format_signed(sek) if signed else format_number(sek)
    pattern = _locale(lang).currency_formats["standard"].pattern.split(";")[0]
    # CLDR puts the symbol after the number (sv "#,##0.00 ¤") or before it (en "¤#,##0.00",
    # where a sign goes first: "-SEK 1,800").
    if pattern.endswith("¤"):
        return f"{number}\xa0{symbol}"
    sign = number[0] if not number[0].isdigit() else ""
    return f"{sign}{symbol}\xa0{number[len(sign) :]}"


def format_date(day: date) -> str:
    """ISO 8601 in every language: what Swedish documents use, and unambiguous for the rest."""
    return day.isoformat()


def format_week(day: date) -> str:
    """The ISO week of a day as a reader writes it (sv: "v. 44", en: "week 44")."""
    return gettext("week {week}").format(week=day.isocalendar().week)


def negotiate(accept_language: str | None, default: str) -> str:
    """The language to answer in from an HTTP Accept-Language header (RFC 9110 §12.5.4): the
    supported language with the highest weight, matched on the primary subtag ("sv-SE" is
    sv); `default` when none fits, for "*", or for a header that cannot be read."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _sep, params = item.strip().partition(";")
        weight = 1.0
        match = re.fullmatch(r"\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*", params) if params else None
        if params and match is None:
            continue  # an unreadable weight: skip this entry rather than guess
        if match:
            weight = float(match[1])
        primary = tag.strip().lower().split("-")[0]
        if weight > 0 and (primary in languages() or primary == "*"):
            weighted.append((-weight, position, default if primary == "*" else primary))
    return min(weighted)[2] if weighted else default


def extract_messages(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: object, options: object
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A Babel extraction method (babel.cfg) that reads the syntax tree, so it also finds
    `_("...")` inside f-strings, which Babel's tokenizer-based Python extractor misses before
    Python 3.12. Yields (line, function, message, comments) for calls of a keyword with a
    literal first argument."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in keywords
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.func.id, node.args[0].value, []
