"""Object ids from outside (a URL path, a query string, a form body) checked before they reach a query.

On PostgreSQL a number beyond the id column's range makes the database raise an error (a 500); checked here, it
is simply no object (a 404) or a bad parameter (a 400).
"""

from __future__ import annotations

import re

from django.urls import register_converter

# The largest id the database's integer columns hold (a signed 64-bit bigint).
MAX_ID = 2**63 - 1

# ASCII digits only: str.isdigit() also takes "²" and other digits that int() refuses or reads differently.
ID_DIGITS = "[0-9]{1,19}"
_ID = re.compile(ID_DIGITS)


def parse_id(text: str) -> int | None:
    """The id this text names, or None when it is no id: not all ASCII digits, or beyond the column's range."""
    if not _ID.fullmatch(text):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


class IdConverter:
    """`<id:name>`: an object id in a path; out of the database's range it does not match (404)."""

    regex = ID_DIGITS

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # Django's resolver reads a ValueError as "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
