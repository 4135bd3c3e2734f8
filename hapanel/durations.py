"""Durations in words, as an operator reads them at a glance: 0.4 s, 42 s, 5 min 3 s, 3 h 12 min, 2 d 4 h.

The board, the pair page, `hastatus` and the alerts all say how long something lasted with `humanize`, so an
age on the wall screen and the same age in an email read alike. static/board/board.js ticks the board's
ages between polls with the same rules; tests/board/test_rendering.py holds both to one table. No Django
here: code that must not load it may use this too.
"""

from __future__ import annotations


def humanize(seconds: float | None) -> str:
    """Tenths below 10 s, where a poll interval lives; further up, the two largest units, the smaller one
    dropped between 10 and 60 min, where its seconds only flicker."""
    if seconds is None:
        return "never"
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s < 600 else f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
