"""The board's rows as HTML, built in Python.

Why not a template: with 1,000 pairs the Django template engine spends ~270 ms on these rows (about sixty
nodes per pair), and while the monitor runs every pair changes every second, so a cache cannot help. Plain
string building takes ~10 ms. The markup is small and stays in this one place; the page around it (banner,
filter, table head) is in templates/status/.
"""

from __future__ import annotations

from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .presenters import PairView, StatusLine


def _ts(when) -> str:
    return str(int(when.timestamp()))


def _line(s: StatusLine, tz) -> str:
    if s.since:
        since = (f'<span class="age" data-at="{_ts(s.since)}">{s.since_text}</span> '
                 f'<small>{s.since.astimezone(tz).isoformat(" ", "seconds")[:19]}</small>')
    else:
        since = "not yet"
    return (f'<td class="line {s.css}">{s.label} Status: <b>{s.status}</b></td>'
            f'<td class="cause">{escape(s.summary) or "—"} <code>{escape(s.cause)}</code></td>'
            f'<td class="since">{since}</td>')


def _pair(p: PairView, tz) -> str:
    name = escape(p.name)
    paused = ' · <span class="paused">paused</span>' if p.paused else ""
    fresh = "fresh" if p.fresh else "stale"
    if p.last_checked:
        checked = (f'<span class="age" data-at="{_ts(p.last_checked)}">{p.check_text}</span> ago '
                   f'<small>{p.last_checked.astimezone(tz).isoformat(" ", "seconds")[11:19]}</small>')
    else:
        checked = "never"
    lag = f"{p.lag:.2f} s" if p.lag is not None else "—"
    rows = 3 if p.warnings else 2
    out = [
        f'<tbody class="pair worst-{p.worst.lower()}" data-pair="{name}"><tr>'
        f'<th rowspan="{rows}" scope="rowgroup"><a href="{p.url}">{name}</a>'
        f'<small>{escape(p.topology)}{paused}</small></th>{_line(p.ha, tz)}'
        f'<td rowspan="2" class="checked {fresh}">{checked}<br><b>{fresh}</b></td>'
        f'<td rowspan="2" class="lag{" high" if p.lag_high else ""}">{lag}</td></tr>',
        f"<tr>{_line(p.repl, tz)}</tr>",
    ]
    if p.warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in p.warnings)
        out.append(f'<tr class="warnings"><td colspan="5"><ul>{items}</ul></td></tr>')
    out.append("</tbody>")
    return "".join(out)


def rows(pairs: list[PairView]) -> SafeString:
    tz = timezone.get_current_timezone()  # once: localtime() per value costs more than the rest of a row
    return mark_safe("\n".join(_pair(p, tz) for p in pairs))  # every value above is escaped
