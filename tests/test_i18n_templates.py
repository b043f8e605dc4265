"""A template's texts are looked up in the catalogue of the page's language, kept on the request
(ociflex.i18n.translations): they follow the customer's language, and a ``force_locale`` inside
the request (an e-mail in its customer's language) until it ends."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, g, render_template_string
from flask_babel import Domain, force_locale

from ociflex import create_app
from tests.conftest import make_environ

TEXTS = (
    '{{ _("Requester") }}|{{ gettext("Vehicle") }}|'
    '{{ ngettext("Entries older than %(num)s day are deleted.", '
    '"Entries older than %(num)s days are deleted.", 2) }}'
)
DUTCH = "Aanvrager|Voertuig|Vermeldingen ouder dan 2 dagen worden verwijderd."
ENGLISH = "Requester|Vehicle|Entries older than 2 days are deleted."


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Iterator[Flask]:
    tmp_path = tmp_path_factory.mktemp("i18n_templates")
    database = tmp_path / "ociflex.sqlite3"
    shutil.copyfile(migrated_sqlite, database)
    customers_dir = Path(__file__).resolve().parent / "customers"
    app = create_app(make_environ(tmp_path, f"sqlite:///{database}", customers_dir))
    yield app
    app.extensions["ociflex.engine"].dispose()


def test_a_templates_texts_speak_the_pages_language(app: Flask) -> None:
    with app.test_request_context():
        assert render_template_string(TEXTS) == DUTCH
    with app.test_request_context():
        g.language = "en"
        assert render_template_string(TEXTS) == ENGLISH


def test_a_templates_texts_follow_a_forced_language_and_come_back_after_it(app: Flask) -> None:
    with app.test_request_context():
        assert render_template_string(TEXTS) == DUTCH
        with force_locale("en"):
            assert render_template_string(TEXTS) == ENGLISH
        assert render_template_string(TEXTS) == DUTCH


def test_a_templates_texts_are_escaped_and_formatted_as_jinja_does_it(app: Flask) -> None:
    with app.test_request_context():
        g.language = "en"
        page = render_template_string(
            '{{ _("Change request %(reference)s", reference=reference) }}',
            reference="<b>R-1</b>",
        )
        assert page == "Change request &lt;b&gt;R-1&lt;/b&gt;"


def test_a_page_looks_its_catalogue_up_once(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[Domain] = []
    get_translations = Domain.get_translations

    def counted(domain: Domain) -> object:
        looked_up.append(domain)
        return get_translations(domain)

    monkeypatch.setattr(Domain, "get_translations", counted)
    with app.test_request_context():
        assert render_template_string(TEXTS) == DUTCH
        assert render_template_string(TEXTS) == DUTCH

    assert len(looked_up) == 1
