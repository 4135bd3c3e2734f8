"""Moved to tests/factories.py. This name stays only while bench/pages.py imports `make_pairs` from here."""

from tests.factories import make_pairs  # noqa: F401
