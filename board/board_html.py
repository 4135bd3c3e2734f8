"""The board's rows as HTML, built in Python.

Why not a template: with 1,000 pairs the Django template engine spends ~270 ms on these rows (about sixty
nodes per pair). Plain string building takes a fraction of that; the markup is small and stays in this one
place; the page around it (banner, filter, table head) is in templates/board/.

While the monitor runs, every pair's last check and lag change at every poll, but little else does. So a
fresh row's markup is kept around its moving parts (the two ages, the last check, the lag), keyed by
everything else the row holds, and a board re-rendered two seconds later presents only the pairs whose
statuses, causes or warnings changed. A pair lagging above its threshold is keyed by its lag too: its lag
warning shows the lag of the moment. A stale row is presented anew each time: its summary tells its age.
"""

from __future__ import annotations

import datetime as dt
import html
from functools import lru_cache

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from board.presenters import CHECKED, INTERVAL, LAG, LAG_WARNING, Freshness, PairView, StatusLine, present
from hapanel.durations import humanize
from monitor.vocabulary import Status

_WORST = {s: f"worst-{s.css}" for s in Status}


@lru_cache(maxsize=8192)
def escape(text: str) -> str:
    """HTML-escaped, with anything beyond ASCII as a character reference. Cached: the board's texts repeat
    from row to row and from poll to poll (names, causes, the summaries and warnings of healthy pairs).
    ASCII: a megabyte of rows with one arrow in it is stored at two or four bytes a character, which makes
    joining and encoding it twice as slow."""
    return html.escape(text).encode("ascii", "xmlcharrefreplace").decode("ascii")
# Per time zone: a fresh row's key -> (its markup around the moving parts, HA and replication since as Unix time).
_kept: dict[str, dict[tuple, tuple[tuple[str, str, str, str], float | None, float | None]]] = {}


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


def status_line(s: StatusLine) -> SafeString:
    """A status line's cells (status, cause, since) as the board's rows show it; the pair page shows the same
    through the `status_line` filter (board/templatetags/status_lines.py)."""
    head, tail = _line(s, _Stamps())
    return mark_safe(f"{head}{s.since_text}{tail}")  # every value in it is escaped


def _line(s: StatusLine, stamp: _Stamps) -> tuple[str, str]:
    """A status line's markup before and after its age: a board keeps both and puts in the age of the moment."""
    head = (f'<td class="line {s.css}">{escape(s.label)} Status: <b>{escape(s.status)}</b></td>'
            f'<td class="cause">{escape(s.summary) or "&mdash;"} <code>{escape(s.cause)}</code></td><td class="since">')
    if not s.since:
        return head, "</td>"
    at, local = stamp(s.since)
    return f'{head}<span class="age" data-at="{at}">', f"</span> <small>{local[:19]}</small></td>"


def _pieces(p: PairView, stamp: _Stamps) -> tuple[str, str, str, str]:
    """A pair's markup around its moving parts: HA age, last check and lag, replication age."""
    name = escape(p.name)
    paused = ' &middot; <span class="paused">paused</span>' if p.paused else ""
    warnings = ""
    if p.warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in p.warnings)
        warnings = f'<tr class="warnings"><td colspan="5"><ul>{items}</ul></td></tr>'
    ha_head, ha_tail = _line(p.ha, stamp)
    repl_head, repl_tail = _line(p.repl, stamp)
    return (f'<tbody class="pair {_WORST[p.worst]}" data-pair="{name}"><tr>'
            f'<th rowspan="{3 if warnings else 2}" scope="rowgroup"><a href="{p.url}">{name}</a>'
            f"{risk_marker(p.risk_marker, p.url)}<small>{escape(p.topology)}{paused}</small></th>{ha_head}",
            ha_tail, f"</tr><tr>{repl_head}", f"{repl_tail}</tr>{warnings}</tbody>")


def risk_marker(marker: dict, url: str) -> str:
    """The board's compact sign of a pair's open warnings before failures: their number, in the colour of the
    worst, linking to the pair page's list; its title names them."""
    count = sum(marker.get(severity, 0) for severity in ("critical", "warning", "unknown"))
    if not count:
        return ""
    worst = escape(str(marker.get("worst") or "warning"))
    names = escape(", ".join(marker.get("codes") or []))
    return (f' <a class="risk-marker risk-{worst}" href="{url}#warnings" title="warnings before failures: {names}">'
            f'&#9888; {count}</a>')


def _checked(checked: dt.datetime | None, age: float | None, fresh: bool, lag: float | None, high: bool,
             stamp: _Stamps) -> str:
    state = "fresh" if fresh else "stale"
    if checked:
        at, local = stamp(checked)
        text = f'<span class="age" data-at="{at}">{humanize(age)}</span> ago <small>{local[11:19]}</small>'
    else:
        text = "never"
    return (f'<td rowspan="2" class="checked {state}">{text}<br><b>{state}</b></td>'
            f'<td rowspan="2" class="lag{" high" if high else ""}">{"&mdash;" if lag is None else f"{lag:.2f} s"}</td>')


def rows(shown: list[tuple[tuple, Freshness]], now: dt.datetime, bounds: dict[float, float]) -> SafeString:
    """The markup of board rows (`presenters.ROW`), each with its `presenters.freshness`."""
    stamp = _Stamps()
    kept = _kept.setdefault(str(stamp.tz), {})
    keys, out = [], []
    at = now.timestamp()
    for row, known in shown:
        checked, age, _, fresh = known
        if not fresh:
            p = present(row, now, bounds, known)
            (a, b, c, d), checked = _pieces(p, stamp), _checked(p.last_checked, p.check_age, False, p.lag,
                                                                p.lag_high, stamp)
            out.append(f"{a}{p.ha.since_text}{b}{checked}{c}{p.repl.since_text}{d}")
            continue
        lag = row[LAG]
        high = lag is not None and lag > row[LAG_WARNING]
        key = row[:INTERVAL] + row[INTERVAL + 1:LAG] + row[CHECKED + 1:]  # not what moves with every poll
        if high:
            key += (lag,)  # a lagging pair's warning shows the lag of the moment (presenters.with_fresh_lag)
        keys.append(key)
        got = kept.get(key)
        if got is None:
            p = present(row, now, bounds, known)
            got = kept[key] = (_pieces(p, stamp), p.ha.since and p.ha.since.timestamp(),
                               p.repl.since and p.repl.since.timestamp())
        (a, b, c, d), ha_since, repl_since = got
        out.append(f"{a}{'not yet' if ha_since is None else humanize(at - ha_since)}{b}"
                   f"{_checked(checked, age, True, lag, high, stamp)}"
                   f"{c}{'not yet' if repl_since is None else humanize(at - repl_since)}{d}")
    if len(kept) > 2 * len(keys) + 1000:  # pairs changed or left: keep what this board showed
        _kept[str(stamp.tz)] = {k: kept[k] for k in keys if k in kept}
    return mark_safe("\n".join(out))  # every value above is escaped
