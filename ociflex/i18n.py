"""Dutch first, English second: every user-facing text goes through gettext (Flask-Babel)."""

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.dates import (
    DateTimePattern,
    get_date_format,
    get_datetime_format,
    get_time_format,
    parse_pattern,
    tokenize_pattern,
)
from babel.support import NullTranslations, Translations
from flask import Flask, g
from flask_babel import Babel, get_locale, get_timezone, get_translations
from wtforms.i18n import messages_path

DEFAULT_LANGUAGE = "nl"
TRANSLATIONS = Path(__file__).parent / "translations"


def _locale() -> str:
    """The language chosen by the page's customer (see the punch-out views); Dutch otherwise."""
    return g.get("language", DEFAULT_LANGUAGE)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Amsterdam")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    # Lets WTForms' own messages ("Not a valid date value.") follow the page's language.
    app.config.setdefault("WTF_I18N_ENABLED", True)
    Babel(app, locale_selector=_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    _install_template_gettext(app)


def translations() -> Translations | NullTranslations:
    """Flask-Babel's catalogue of the page's language, kept on the request.

    Flask-Babel finds it for every text anew: three look-ups of its request context and the
    locale's name built again, a third of what a text in a template costs. ``force_locale``
    (an e-mail in its customer's language) sets another Locale object, so the catalogue is
    found again whenever the locale is not the one it was found for.
    """
    locale = get_locale()
    if locale is None:  # no application context: Flask-Babel's NullTranslations
        return get_translations()
    found = g.get("_ociflex_catalogue")
    if found is None or found[0] is not locale:
        found = g._ociflex_catalogue = (locale, get_translations())
    return found[1]


def _install_template_gettext(app: Flask) -> None:
    """Templates' ``_()``, ``gettext()``, ``ngettext()``: Jinja's own (newstyle: escaped, always
    ``%``-formatted), on :func:`translations`. ``_`` is the installed ``gettext`` itself rather
    than Jinja's alias, which looks ``gettext`` up in the template's context on every call."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"]


@cache
def _wtforms_catalogue(language: str) -> Translations:
    return Translations.load(messages_path(), [language], domain="wtforms")


def wtforms_translations() -> Translations:
    """WTForms' own messages in the page's language, for a form's ``Meta.get_translations``.

    Flask-WTF reads the catalogue from disk once per request; this keeps one per language.
    """
    return _wtforms_catalogue(str(get_locale() or DEFAULT_LANGUAGE))


# --- Dates as the pages show them ---------------------------------------------------------------

#: The locale's own formats, named as for Flask-Babel's ``dateformat`` and ``datetimeformat``.
DateFormat = Literal["short", "medium", "long", "full"]


#: Fields of a time pattern that read nothing but the hour and the minute (the hour counted
#: 0-23, 1-12, 0-11 or 1-24, the minute, am/pm).
_HOUR_AND_MINUTE = frozenset("HhKkma")


@dataclass(frozen=True)
class _Patterns:
    """One language's patterns of one format, parsed."""

    locale: Locale
    date: DateTimePattern
    time: DateTimePattern
    #: "{1} {0}": where the date ({1}) and the time ({0}) go in a date and time.
    datetime: str
    #: The time pattern reads only the hour and the minute ("HH:mm", "h:mm a").
    by_minute: bool


@cache
def _patterns(language: str, format: DateFormat) -> _Patterns:
    """The patterns of one language (a locale identifier: cheaper to look up than a Locale)."""
    locale = Locale.parse(language)
    time = parse_pattern(get_time_format(format, locale))
    fields = {token[1][0] for token in tokenize_pattern(time.pattern) if token[0] == "field"}
    return _Patterns(
        locale=locale,
        date=parse_pattern(get_date_format(format, locale)),
        time=time,
        datetime=str(get_datetime_format(format, locale)).replace("'", ""),
        by_minute=fields <= _HOUR_AND_MINUTE,
    )


@lru_cache(maxsize=4096)
def _day(day: dt.date, format: DateFormat, language: str) -> str:
    """One day's text: a list shows the same days over and over (kept for 4,096 of them)."""
    patterns = _patterns(language, format)
    return patterns.date.apply(day, patterns.locale)


@lru_cache(maxsize=4096)
def _minute(hour: int, minute: int, format: DateFormat, language: str) -> str:
    """The text of a time of day whose pattern reads only its hour and minute: a day has
    1,440 of them."""
    patterns = _patterns(language, format)
    return patterns.time.apply(dt.time(hour, minute), patterns.locale)


class DateFormatter:
    """Dates and times in one language and timezone, written exactly as Flask-Babel's
    ``dateformat`` and ``datetimeformat`` filters write them with a named format.

    Those look up the language, the timezone and the locale's pattern for every date they
    write, and a list page of 50 rows writes three dates a row. This looks them up once: the
    patterns are parsed once per language and format, and the text of each day, and of each
    minute of the day when the time shows no seconds, is kept.
    """

    def __init__(self, locale: Locale, timezone: dt.tzinfo) -> None:
        self.language = str(locale)
        self.timezone = timezone

    def _local(self, value: dt.datetime) -> dt.datetime:
        """``value`` in the page's timezone; a naive ``value`` is UTC (as Babel takes it).

        Babel also normalizes the result with a pytz timezone: a no-op after ``astimezone``,
        which already goes through the zone's ``fromutc``, so it is left out here.
        """
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(self.timezone)

    def date(self, value: dt.date, format: DateFormat = "medium") -> str:
        """As ``value|dateformat(format)``: the day of a datetime in the page's timezone."""
        if isinstance(value, dt.datetime):
            value = self._local(value).date()
        return _day(value, format, self.language)

    def datetime(self, value: dt.datetime, format: DateFormat = "medium") -> str:
        """As ``value|datetimeformat(format)``: the date and time in the page's timezone."""
        local = self._local(value)
        day = local.date()
        patterns = _patterns(self.language, format)
        if patterns.by_minute:
            time = _minute(local.hour, local.minute, format, self.language)
        else:
            time = patterns.time.apply(local.timetz(), patterns.locale, reference_date=day)
        return patterns.datetime.replace("{0}", time).replace(
            "{1}", _day(day, format, self.language)
        )


def date_formatter() -> DateFormatter:
    """A :class:`DateFormatter` for the current request's language and timezone."""
    return DateFormatter(get_locale() or Locale.parse(DEFAULT_LANGUAGE), get_timezone())
