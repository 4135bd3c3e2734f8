"""The board as the status page, its live fragment and the API list show it, from one query.

A wall screen polls the fragment every 2 s, so the usual answer is 304: the ETag comes from the rows as read
and from which of them show fresh, before anything is presented. Filtering, counting and ordering need no
more than that either; the shown pairs are presented one at a time as the page or the API writes them out,
so that a thousand of them are never alive at once (the collector would move them to its oldest generation,
and its full collections of the whole process cost about 70 ms).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from collections.abc import Iterator
from functools import cached_property
from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from board import board_html
from board.presenters import (
    ALIVE,
    FAILED,
    NAME,
    STATUS_FILTERS,
    UNKNOWN,
    Freshness,
    PairView,
    board_rows,
    monitor_banner,
    order_key,
    present,
    shown,
    status_matches,
)

_ROWS = mark_safe("\x00board rows\x00")  # where the fragment's rows go


class Board:
    """The board for GET parameters `name` and `status`: filtered, failed pairs first."""

    def __init__(self, params: QueryDict | dict, now: dt.datetime | None = None) -> None:
        status = params.get("status") or ""
        self.name = (params.get("name") or "").strip()[:100]
        self.status = status if status in STATUS_FILTERS else ""
        self.now = now or timezone.now()
        self.monitor = monitor_banner(self.now.timestamp())
        self.rows = board_rows(self.name)  # before the status filter: what the ETag covers
        self._bounds: dict[float, float] = {}

    @property
    def query(self) -> str:
        return urlencode({k: v for k, v in (("name", self.name), ("status", self.status)) if v})

    @cached_property
    def _shown(self) -> list[tuple[bool, str, str, str, Freshness]]:
        now, bounds = self.now, self._bounds
        return [shown(row, now, bounds) for row in self.rows]

    @cached_property
    def etag(self) -> str:
        """Changes when anything the board shows changes, except the ages, which the browser ticks on its own:
        the rows as read, and which of them show fresh (that changes with time alone)."""
        monitor = self.monitor
        h = hashlib.sha256(f"{self.query}|{monitor['ok']}|{monitor['reason'] if not monitor['ok'] else ''}".encode())
        # pickle: a tenth of repr's time. Its bytes differ whenever a value does. Equal rows could only differ
        # if two drivers shared objects between cells differently (pickle writes a back-reference to the
        # second): a needless 200, never a wrong 304.
        h.update(pickle.dumps((self.rows, [s[0] for s in self._shown]), protocol=5))
        return f'"{h.hexdigest()[:24]}"'

    @cached_property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((FAILED, UNKNOWN, ALIVE), 0)
        for s in self._shown:
            counts[s[3]] += 1
        return counts

    @cached_property
    def _order(self) -> list[tuple[tuple, Freshness]]:
        """The rows that pass the status filter, in the board's order, each with its `freshness`."""
        status = self.status
        keyed = [(order_key(worst, row[NAME]), (row, f))
                 for row, (_, ha, repl, worst, f) in zip(self.rows, self._shown, strict=True)
                 if status_matches(status, ha, repl, worst)]
        keyed.sort(key=lambda item: item[0])
        return [item for _, item in keyed]

    @property
    def shown(self) -> int:
        """How many pairs pass the filter."""
        return len(self._order)

    def views(self) -> Iterator[PairView]:
        """The shown pairs, presented one at a time."""
        now, bounds = self.now, self._bounds
        return (present(row, now, bounds, f) for row, f in self._order)

    @property
    def rows_html(self) -> SafeString:
        return board_html.rows(self._order, self.now, self._bounds)

    def fragment(self, request: HttpRequest) -> bytes:
        """The board's live fragment. Its rows, a megabyte at 1,000 pairs, go around the template engine:
        its copies of them cost more than rendering the rest."""
        page = render_to_string("board/_board.html", {"board": self, "rows": _ROWS}, request)
        head, _, tail = page.partition(_ROWS)
        return b"".join((head.encode(), self.rows_html.encode(), tail.encode()))
