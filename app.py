"""The WSGI entry point: ``gunicorn app:app`` or ``flask --app app ...``."""

from ociflex import create_app

app = create_app()
