"""Dutch first, English second: every user-facing text goes through gettext (Flask-Babel)."""

from functools import cache
from pathlib import Path

from babel.support import Translations
from flask import Flask, g
from flask_babel import Babel, get_locale
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


@cache
def _wtforms_catalogue(language: str) -> Translations:
    return Translations.load(messages_path(), [language], domain="wtforms")


def wtforms_translations() -> Translations:
    """WTForms' own messages in the page's language, for a form's ``Meta.get_translations``.

    Flask-WTF reads the catalogue from disk once per request; this keeps one per language.
    """
    return _wtforms_catalogue(str(get_locale() or DEFAULT_LANGUAGE))
