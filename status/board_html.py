"""The board's rows as HTML, built in Python.

Why not a template: with 1,000 pairs the Django template engine spends ~270 ms on these rows (about sixty
nodes per pair), and while the monitor runs every pair changes every second, so a cache cannot help. Plain
string building takes ~10 ms. The markup is small and stays in this one place; the page around it (banner,
filter, table head) is in templates/status/.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from functools import lru_cache

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .presenters import ALIVE, FAILED, UNKNOWN, PairView, StatusLine

_WORST = {s: f"worst-{s.lower()}" for s in (ALIVE, FAILED, UNKNOWN)}
# The board's texts repeat from row to row and from poll to poll (names, causes, the summaries and warnings of
# healthy pairs): a cached escape costs a fifth of escaping again.
escape = lru_cache(maxsize=8192)(html.escape)


class _Stamps:
    """`data-at` (Unix time) and the local time of an instant. A board's instants crowd into few seconds (the
    last polls, a flip that hit many pairs), so each second is formatted once: formatting costs more than a
    row's escaping."""

    def __init__(self) -> None:
        self.tz = timezone.get_current_timezone()  # once: localtime() per value costs more than a row
        self.seen: dict[int, tuple[str, str]] = {}

    def __call__(self, when: dt.datetime) -> tuple[str, str]:
        second = int(when.timestamp())  # the same local text within one (for instants after 1970)
        got = self.seen.get(second)
        if got is None:
            got = self.seen[second] = (str(second), when.astimezone(self.tz).isoformat(" ", "seconds"))
        return got


def _line(s: StatusLine, stamp: _Stamps) -> str:
    if s.since:
        at, local = stamp(s.since)
        since = f'<span class="age" data-at="{at}">{s.since_text}</span> <small>{local[:19]}</small>'
    else:
        since = "not yet"
    return (f'<td class="line {s.css}">{s.label} Status: <b>{s.status}</b></td>'
            f'<td class="cause">{escape(s.summary) or "—"} <code>{escape(s.cause)}</code></td>'
            f'<td class="since">{since}</td>')


def _pair(p: PairView, stamp: _Stamps) -> str:
    name = escape(p.name)
    paused = ' · <span class="paused">paused</span>' if p.paused else ""
    fresh = "fresh" if p.fresh else "stale"
    if p.last_checked:
        at, local = stamp(p.last_checked)
        checked = f'<span class="age" data-at="{at}">{p.check_text}</span> ago <small>{local[11:19]}</small>'
    else:
        checked = "never"
    lag = f"{p.lag:.2f} s" if p.lag is not None else "—"
    warnings = ""
    if p.warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in p.warnings)
        warnings = f'<tr class="warnings"><td colspan="5"><ul>{items}</ul></td></tr>'
    return (f'<tbody class="pair {_WORST[p.worst]}" data-pair="{name}"><tr>'
            f'<th rowspan="{3 if warnings else 2}" scope="rowgroup"><a href="{p.url}">{name}</a>'
            f'<small>{escape(p.topology)}{paused}</small></th>{_line(p.ha, stamp)}'
            f'<td rowspan="2" class="checked {fresh}">{checked}<br><b>{fresh}</b></td>'
            f'<td rowspan="2" class="lag{" high" if p.lag_high else ""}">{lag}</td></tr>'
            f"<tr>{_line(p.repl, stamp)}</tr>{warnings}</tbody>")


def rows(pairs: Iterable[PairView]) -> SafeString:
    stamp = _Stamps()
    return mark_safe("\n".join([_pair(p, stamp) for p in pairs]))  # every value above is escaped
