"""Language choice and Swedish formats (dates, numbers, money) for templates."""

from __future__ import annotations

import functools
from datetime import date, datetime

from babel import Locale
from blinker import Namespace
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from flask_login import current_user
from jinja2.ext import _make_new_gettext, _make_new_ngettext  # what Jinja's i18n installs, per page
from markupsafe import Markup

from sharing.web.redirects import this_page
from sharing.web.templating import add_template_helpers

LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}
_signals = Namespace()
# A signed-in user chose a language (sent with ``user_id`` and ``language``), for whoever
# keeps users' settings to remember.
language_chosen = _signals.signal("language-chosen")


def select_locale() -> Locale:
    """The user's choice, then the session's, then the browser's, then Swedish."""
    languages = current_app.config["LANGUAGES"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return _locale(current_user.locale)
    if session.get("locale") in languages:
        return _locale(session["locale"])
    return _locale(request.accept_languages.best_match(languages) or languages[0])


@functools.cache  # a few languages; Flask-Babel would otherwise parse the code with every request
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def money(amount: float | int | None, pattern: str = "#,##0.00") -> str:
    """1 234,50 kr in Swedish, 1,234.50 SEK in English: the unit kept on the amount's line
    (``pattern``: "#,##0" for whole kronor)."""
    if amount is None:
        return ""
    return format_decimal(amount, format=pattern) + ("\u00a0kr" if str(get_locale()) == "sv" else "\u00a0SEK")


def when(value: datetime | date | None, style: str = "medium") -> str:
    """A date or time in the user's language and Stockholm time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "yyyy-MM-dd HH:mm" if style == "short" else style)
    return format_date(value, "yyyy-MM-dd" if style == "short" else style)


def when_tag(value: datetime | date | None) -> Markup:
    """``when(value, "short")`` as a page shows it, in a <time>: its date kept whole on one line (in
    a phone's narrow column 2026-12-07 would otherwise break at its hyphens), a clock time after it
    free to go to the next line."""
    if value is None:
        return Markup("")
    day, _, clock = when(value, "short").partition(" ")
    if not clock:
        return Markup('<time class="nowrap" datetime="%s">%s</time>') % (value.isoformat(), day)
    return Markup('<time datetime="%s"><span class="nowrap">%s</span> %s</time>') % (value.isoformat(), day, clock)


def page_gettext() -> dict[str, object]:
    """The translation functions of a template, in whatever language is in force (a mail's too).
    Flask-Babel finds the translations anew for every string, and a page has dozens: these are
    found once."""
    translations = get_translations()
    gettext = _make_new_gettext(translations.ugettext)
    return {"gettext": gettext, "_": gettext,  # _ itself, not Jinja's alias that looks up gettext each time
            "ngettext": _make_new_ngettext(translations.ungettext)}


def init_app(app: Flask) -> None:
    add_template_helpers(app, filters={"money": money, "when": when, "when_tag": when_tag, "number": format_decimal})

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {"current_locale": str(get_locale()), "language_names": LANGUAGE_NAMES, **page_gettext(),
                "language_next": this_page() if has_request_context() else ""}  # where the switch comes back to
