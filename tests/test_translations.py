"""The Swedish catalog covers every message in the code, with the same placeholders.

Works from the source and the .po file only: no app, no database. After changing
user-facing text, run `make extract` and translate the new entries in sv/messages.po.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SV_PO = ROOT / "sharing" / "translations" / "sv" / "LC_MESSAGES" / "messages.po"

# Same as babel.cfg; extraction runs from the repository root like `make extract`.
METHOD_MAP = [
    ("sharing/**.py", "python"),
    ("sharing/**/templates/**.html", "jinja2"),
    ("sharing/**/templates/**.txt", "jinja2"),
]
OPTIONS_MAP = {
    "sharing/**/templates/**.html": {"extensions": "jinja2.ext.do"},
    "sharing/**/templates/**.txt": {"extensions": "jinja2.ext.do"},
}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_pgettext": ((1, "c"), 2), "N_": None, "NP_": (1, 2)}

PLACEHOLDER = re.compile(r"%\(([^)]+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _ids(message: str | tuple) -> tuple[str, ...]:
    return message if isinstance(message, tuple) else (message,)


@pytest.fixture(scope="module")
def sv_catalog():
    with SV_PO.open("rb") as f:
        return read_po(f, locale="sv")


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str, str | None], str]:
    """(msgid, context) -> first place it was found (file:line)."""
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS
    ):
        msgid = _ids(message)[0]
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text)) if text else set()


def test_extraction_finds_messages(extracted):
    # Guards against a broken method map making the coverage test pass vacuously.
    assert len(extracted) > 50
    assert ("Log in", None) in extracted
    assert ("Closed", "stop failure") in extracted


def test_every_message_has_a_swedish_translation(extracted, sv_catalog):
    missing = []
    for (msgid, context), where in sorted(extracted.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        entry = sv_catalog.get(msgid, context=context)
        strings = _ids(entry.string) if entry is not None else ()
        if entry is None or entry.fuzzy or not strings or not all(s.strip() for s in strings):
            state = "not in catalog" if entry is None else ("fuzzy" if entry.fuzzy else "empty")
            missing.append(f"  {msgid!r} ({state}, {where})")
    assert not missing, (
        f"{len(missing)} message(s) lack a Swedish translation in {SV_PO.relative_to(ROOT)}; "
        "run `make extract` and translate them:\n" + "\n".join(missing)
    )


def test_the_swedish_catalog_keeps_no_obsolete_entries(sv_catalog):
    """A msgid gone and come back stood twice (obsolete, and anew), which GNU gettext's tools
    refuse as a duplicate: `make extract` drops what the code no longer says."""
    assert not sv_catalog.obsolete, sorted(sv_catalog.obsolete)[:5]


def test_swedish_placeholders_match(sv_catalog):
    wrong = []
    for entry in sv_catalog:
        if not entry.id:
            continue
        ids, strings = _ids(entry.id), _ids(entry.string)
        expected = set().union(*(_placeholders(i) for i in ids))
        # A singular form may leave out what its English singular leaves out ("The row is correct").
        singular = [_placeholders(ids[0])] + [expected] * (len(strings) - 1)
        for string, also in zip(strings, singular):
            if string and _placeholders(string) not in (expected, also):
                wrong.append(
                    f"  {ids[0]!r}: expected {sorted(expected)}, got {sorted(_placeholders(string))}"
                )
    assert not wrong, "Placeholders differ between msgid and Swedish msgstr:\n" + "\n".join(wrong)


@pytest.mark.parametrize("count, wanted", [(1, "1 ny annons matchar din efterlysning"),
                                           (3, "3 nya annonser matchar din efterlysning")])
def test_counts_agree_with_their_nouns_in_swedish(app, count, wanted):
    from types import SimpleNamespace

    from flask import render_template
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("sv"):
        mail = render_template("catalog/mail/wants_matched.txt", count=count, want_name="stol", listings=[],
                               user=SimpleNamespace(name="Anna"), want=SimpleNamespace(id=1))
    assert wanted in mail


@pytest.mark.parametrize("free, swedish, english", [
    (0, "Inget exemplar är ledigt de dagarna", "No piece is free for those dates"),
    (1, "Bara 1 exemplar är ledigt de dagarna", "Only 1 piece is free for those dates"),
    (3, "Bara 3 exemplar är lediga de dagarna", "Only 3 pieces are free for those dates")])
def test_a_refusal_with_a_count_takes_the_form_its_count_asks_for(app, free, swedish, english):
    from flask_babel import force_locale

    from sharing.catalog.holds.rules import NotFree
    from sharing.web.forms import refusal

    refused = NotFree(free)
    with app.test_request_context(), force_locale("sv"):
        assert swedish in refusal(refused)
    assert english in refused.in_english() and english in str(refused)  # the API's words, and the log's


@pytest.mark.parametrize("hours, swedish", [(1, "gäller i 1 timme."), (2, "gäller i 2 timmar.")])
def test_the_reset_mail_counts_its_hours(app, hours, swedish):
    from flask import render_template
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("sv"):
        mail = render_template("accounts/mail/reset.txt", token="t", hours=hours, user=None)
    assert swedish in mail


def test_a_message_with_a_plural_form_keeps_it_when_copied():
    import copy
    import pickle

    from sharing.i18n import NP_

    message = NP_("%(num)d piece", "%(num)d pieces")
    for copied in (copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert (str(copied), copied.plural, copied.in_english(2)) == ("%(num)d piece",) + ("%(num)d pieces",) * 2
