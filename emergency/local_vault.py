"""A vault the panel can administer without a DSN: the development sandbox's, registered by devtools.

The `vault` command asks here when no admin DSN is given. Production installs register nothing, so
the command then asks for `--dsn`; emergency code never imports devtools itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from monitor.models import Pair


class LocalVault(Protocol):
    def admin(self):
        """An admin connection to the pair's primary."""

    def init(self, pair: Pair, demo: bool) -> str:
        """Creates the schema and the accounts, stores them for the pair; returns the line to print."""


_finders: list[Callable[[Pair], LocalVault | None]] = []


def register(finder: Callable[[Pair], LocalVault | None]) -> None:
    if finder not in _finders:
        _finders.append(finder)


def for_pair(pair: Pair) -> LocalVault | None:
    for finder in _finders:
        found = finder(pair)
        if found is not None:
            return found
    return None
