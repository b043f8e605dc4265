"""The benchmark of ociflex against a bare Flask app: ``python -m bench.run`` (see
docs/performance.md)."""
