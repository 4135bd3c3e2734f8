"""GTID sets as both flavours write them, and the little arithmetic the warnings need. Pure.

MariaDB: a GTID is domain-server-seq; a position or a binlog state lists the last one per domain (position) or per
domain and server (state): `0-1-100,1-2-7`. MySQL: `uuid:1-5:7,uuid2:1-3`, with intervals per source uuid (8.4
adds tags, `uuid:tag:1-5`).
"""

from __future__ import annotations

import re

from monitor.risks.rules_base import Unreadable

_MARIA = re.compile(r"(\d{1,10})-(\d{1,10})-(\d{1,20})")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_INTERVAL = re.compile(r"(\d{1,20})(?:-(\d{1,20}))?")
_TAG = re.compile(r"[a-z_][a-z0-9_]{0,31}", re.I)

MariaGtids = dict[tuple[int, int], int]  # (domain, server) -> last seq
MysqlSet = dict[str, list[tuple[int, int]]]  # uuid[:tag] -> sorted, merged intervals


def maria_state(text: str | None) -> MariaGtids:
    """`0-1-100,1-2-7` (or `[0-1-100]`, as a Gtid_list event shows it) as {(domain, server): seq}."""
    out: MariaGtids = {}
    body = (text or "").strip().strip("[]").strip()
    for part in filter(None, (p.strip() for p in body.split(","))):
        match = _MARIA.fullmatch(part)
        if match is None:
            raise Unreadable(f"{part!r:.60} is not a MariaDB GTID (domain-server-seq)")
        domain, server, seq = (int(g) for g in match.groups())
        out[(domain, server)] = max(seq, out.get((domain, server), 0))
    return out


def per_domain(state: MariaGtids) -> dict[int, int]:
    """The highest seq per domain: where a position stands in each domain."""
    out: dict[int, int] = {}
    for (domain, _), seq in state.items():
        out[domain] = max(seq, out.get(domain, 0))
    return out


def maria_text(domain: int, server: int, seq: int) -> str:
    return f"{domain}-{server}-{seq}"


def mysql_set(text: str | None) -> MysqlSet:
    """`uuid:1-5:7,uuid2:1-3` as {uuid: [(1, 5), (7, 7)]}; newlines (MySQL wraps long sets) are ignored."""
    out: MysqlSet = {}
    body = re.sub(r"\s+", "", text or "")
    for part in filter(None, body.split(",")):
        pieces = part.split(":")
        if not _UUID.fullmatch(pieces[0]):
            raise Unreadable(f"{part!r:.60} does not start with a server uuid")
        key = pieces[0].lower()
        for piece in pieces[1:]:
            match = _INTERVAL.fullmatch(piece)
            if match is None:
                if not _TAG.fullmatch(piece):
                    raise Unreadable(f"{piece!r:.40} in {part!r:.60} is neither an interval nor a tag")
                key = f"{pieces[0].lower()}:{piece.lower()}"
                continue
            start = int(match.group(1))
            end = int(match.group(2) or start)
            if end < start:
                raise Unreadable(f"interval {piece!r} runs backwards")
            out.setdefault(key, []).append((start, end))
    return {k: _merge(v) for k, v in out.items()}


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def subtract(a: MysqlSet, b: MysqlSet) -> MysqlSet:
    """What `GTID_SUBTRACT(a, b)` answers: the transactions of `a` that `b` lacks."""
    out: MysqlSet = {}
    for key, intervals in a.items():
        rest = intervals
        for b_start, b_end in b.get(key, []):
            cut: list[tuple[int, int]] = []
            for start, end in rest:
                if end < b_start or start > b_end:
                    cut.append((start, end))
                    continue
                if start < b_start:
                    cut.append((start, b_start - 1))
                if end > b_end:
                    cut.append((b_end + 1, end))
            rest = cut
        if rest:
            out[key] = rest
    return out


def mysql_text(gtids: MysqlSet) -> str:
    return ",".join(key + "".join(f":{s}" if s == e else f":{s}-{e}" for s, e in intervals)
                    for key, intervals in sorted(gtids.items()))


def count(gtids: MysqlSet) -> int:
    return sum(e - s + 1 for intervals in gtids.values() for s, e in intervals)
