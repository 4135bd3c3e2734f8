"""Moved to tests/factories.py. This name stays only while bench/pages.py imports `make_pairs` from here."""

from tests.factories import make_pairs, readings, recorded, save  # noqa: F401


def user(role: str | None, username: str | None = None, password: str = "correct-horse-battery"):
    """Kept until the tests use the personas of tests/conftest.py (tests.factories.make_user)."""
    from tests.factories import make_user

    return make_user(username or f"{role or 'norole'}-user", role, password)
