"""What the pages, the API, the metrics and `hastatus` show for a pair: the stored statuses, made honest.

A status is only as good as its last poll: once `last_checked` is older than `monitor.freshness.stale_after`
the pair shows `Unknown` (cause `monitor-stale`) with the age of its last reading, whatever `Alive` is
stored, because a page that says `Alive` after the monitor died is lying (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connections, router
from django.db.models import Func, QuerySet, TextField
from django.utils import timezone

from hapanel.durations import humanize
from monitor import coordination
from monitor.freshness import stale_after
from monitor.models import Pair
from monitor.vocabulary import BOARD_ORDER, Cause, Kind, Status

ALIVE, FAILED, UNKNOWN = Status.ALIVE, Status.FAILED, Status.UNKNOWN
RANK = {s: -s.severity for s in Status}  # the order of the board: failed pairs first
STATUS_FILTERS = ("", *BOARD_ORDER, "problems")
STALE_CAUSE = Cause.MONITOR_STALE
HA_LABEL, REPL_LABEL = Kind.HA.label, Kind.REPLICATION.label
_decode = json.JSONDecoder().raw_decode  # half of json.loads: the DB's JSON text has no surrounding blanks
# A status line's class: the prefix keeps the vocabulary's bare words ("failed") clear of other classes.
_LINE_CSS = {s: f"st-{s.css}" for s in Status}
# The heartbeat lag warning as monitor/evaluate.py words it: its figure, then the direction and the threshold.
_LAG_WARNING = re.compile(r"heartbeat age (\d+(?:\.\d+)?) s (on the .*)")


def absolute(when: dt.datetime | None) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S %Z") if when else ""


@dataclass(slots=True)  # not frozen: a frozen __init__ costs four times as much, and a board makes 2,000
class StatusLine:
    label: str  # "High Availability" or "Replication"
    status: str  # what to show: Unknown when the reading is stale
    stored: str  # what the monitor recorded last
    cause: str
    summary: str
    since: dt.datetime | None
    since_age: float | None

    @property
    def css(self) -> str:
        return _LINE_CSS[self.status]

    @property
    def since_text(self) -> str:
        return humanize(self.since_age) if self.since else "not yet"


@dataclass(slots=True)
class PairView:
    id: int
    name: str
    topology: str
    paused: bool
    ha: StatusLine
    repl: StatusLine
    last_checked: dt.datetime | None
    check_age: float | None
    stale_after: float
    lag: float | None
    lag_warning: float
    worst: str  # the lower of the two shown statuses: the board's order, counts and filter read it often
    warnings: list[str] = field(default_factory=list)
    # Warnings before failures open now (monitor.risk_record.marker): counts per severity, the worst, the codes.
    risk_marker: dict = field(default_factory=dict)

    @property
    def fresh(self) -> bool:
        return self.check_age is not None and self.check_age <= self.stale_after

    @property
    def check_text(self) -> str:
        return humanize(self.check_age)

    @property
    def lag_text(self) -> str:
        return "unknown" if self.lag is None else lag_figure(self.lag)

    @property
    def lag_high(self) -> bool:
        return self.lag is not None and self.lag > self.lag_warning

    @property
    def url(self) -> str:
        return f"/pairs/{self.id}/"

    def statuses(self) -> tuple[StatusLine, StatusLine]:
        return self.ha, self.repl


def _stale_summary(age: float | None, stored: str, cause: str) -> str:
    if age is None:
        return "Waiting for the first poll: a new pair is polled within a few seconds while the monitor runs"
    return (f"Not checked for {humanize(age)}: the monitor is down or cannot keep up; the last recorded status "
            f"was {stored} ({cause})")


class _Stored(Func):
    """A datetime column as the driver hands it over: an aware datetime on PostgreSQL, naive-UTC ISO text on
    SQLite, where Django's converters (a regex, then make_aware, each reading settings) cost more per value
    than presenting the rest of the row. `as_datetime` reads both. The warnings' JSON is read as text too."""

    template = "%(expressions)s"
    output_field = TextField()  # no converter on either backend

    def as_sqlite(self, compiler, connection, **extra_context):
        # An expression has no declared type, so sqlite3 does not convert it either.
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS TEXT)", **extra_context)


# A board row: what the board, the API, the metrics and `hastatus` show of a pair, in this order. Health and
# readings stay in the database (a few kB per pair); the summaries and warnings have columns of their own.
ROW = ("id", "name", "topology", "paused", "poll_interval", "lag_warning", "ha_status", "ha_cause", "ha_since_at",
       "ha_summary", "repl_status", "repl_cause", "repl_since_at", "repl_summary", "lag", "checked_at", "warnings_json",
       "risk_marker_json")
CHECKED, INTERVAL, NAME = ROW.index("checked_at"), ROW.index("poll_interval"), ROW.index("name")
LAG, LAG_WARNING = ROW.index("lag"), ROW.index("lag_warning")
HA, REPL = ROW.index("ha_status"), ROW.index("repl_status")


def board_queryset(name: str = "", **extra) -> QuerySet:
    """Every pair's board row (`ROW`), then the `extra` expressions, as tuples: one query for the whole board."""
    qs = Pair.objects.filter(name__icontains=name) if name else Pair.objects.all()
    return qs.annotate(
        ha_since_at=_Stored("ha_since"), repl_since_at=_Stored("repl_since"), checked_at=_Stored("last_checked"),
        warnings_json=_Stored("warnings"), risk_marker_json=_Stored("risk_marker"), **extra,
    ).values_list(*ROW, *extra)


def board_rows(name: str = "") -> list[tuple]:
    """`board_queryset(name)`, straight from the driver: Django's handling of each row (a list, a tuple and a
    converter call for `paused`, which the driver turns into a bool already) is a fifth of the query's time."""
    db, sql, params = _board_sql(name)
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _board_sql(name: str) -> tuple[str, str, tuple]:
    """The board query as SQL. The unfiltered one, which every wall screen asks for, is built once per
    database: building and compiling the queryset cost a tenth of running it."""
    if not name:
        return _unfiltered_sql(router.db_for_read(Pair))
    qs = board_queryset(name)
    return (qs.db, *qs.query.sql_with_params())


@lru_cache(maxsize=8)
def _unfiltered_sql(db: str) -> tuple[str, str, tuple]:
    qs = board_queryset().using(db)
    return (db, *qs.query.sql_with_params())


def as_datetime(value: dt.datetime | str | None) -> dt.datetime | None:
    """A datetime of a board row (see `_Stored`)."""
    if value.__class__ is str:
        return dt.datetime.fromisoformat(value + "+00:00")  # ~5x cheaper than .replace(tzinfo=)
    return value  # type: ignore[return-value]


Freshness = tuple[dt.datetime | None, float | None, float, bool]  # what `freshness` returns


def freshness(row: tuple, now: dt.datetime, bounds: dict[float, float]) -> Freshness:
    """A board row's last check, its age, its staleness bound and whether its statuses are fresh. `bounds`
    remembers `stale_after` per poll interval across the rows of one board."""
    checked = as_datetime(row[CHECKED])
    age = (now - checked).total_seconds() if checked else None
    interval = row[INTERVAL]
    bound = bounds.get(interval)
    if bound is None:
        bound = bounds[interval] = stale_after(interval)
    return checked, age, bound, age is not None and age <= bound


def shown(row: tuple, now: dt.datetime, bounds: dict[float, float]) -> tuple[bool, str, str, str, Freshness]:
    """(fresh, HA status, replication status, the worse of the two, `freshness`) as a board row shows them,
    without presenting it: enough to filter, count and order a board."""
    f = freshness(row, now, bounds)
    if f[3]:
        ha, repl = row[HA], row[REPL]
        return True, ha, repl, _worse(ha, repl), f
    return False, UNKNOWN, UNKNOWN, UNKNOWN, f


def _worse(ha: str, repl: str) -> str:
    return ha if RANK[ha] <= RANK[repl] else repl


def _row(pair: Pair) -> tuple:
    """A Pair instance as a board row (pages that load one pair with its health)."""
    return (pair.id, pair.name, pair.topology, pair.paused, pair.poll_interval, pair.lag_warning, pair.ha_status,
            pair.ha_cause, pair.ha_since, pair.ha_summary, pair.repl_status, pair.repl_cause,
            pair.repl_since, pair.repl_summary, pair.lag, pair.last_checked, list(pair.warnings or []),
            dict(pair.risk_marker or {}))


def _line(label: str, stored: str, cause: str, summary: str | None, since: dt.datetime | None,
          now: dt.datetime) -> StatusLine:
    return StatusLine(label, stored, stored, cause, summary or "", since,
                      (now - since).total_seconds() if since else None)


def _stale_line(label: str, stored: str, cause: str, since: dt.datetime | None, age: float | None) -> StatusLine:
    # Never polled is not stale: a pair just saved waits for its first poll, which is no sign of a dead monitor.
    shown = Cause.NOT_POLLED if age is None else STALE_CAUSE
    return StatusLine(label, UNKNOWN, stored, shown, _stale_summary(age, stored, cause), since, age)


def present(pair: Pair | tuple, now: dt.datetime | None = None, bounds: dict | None = None,
            known: Freshness | None = None) -> PairView:
    """A Pair, or a row of `board_queryset()`, as shown; `bounds` caches stale_after per interval, `known` is
    the row's `freshness` if the caller has it already."""
    row = _row(pair) if isinstance(pair, Pair) else pair
    (pk, name, topology, paused, _, lag_warning, ha, ha_cause, ha_since, ha_summary, repl, repl_cause, repl_since,
     repl_summary, lag, _, warnings, risk_marker) = row
    now = now or timezone.now()
    checked, age, bound, fresh = known or freshness(row, now, {} if bounds is None else bounds)
    if fresh:
        ha_line = _line(HA_LABEL, ha, ha_cause, ha_summary, as_datetime(ha_since), now)
        repl_line = _line(REPL_LABEL, repl, repl_cause, repl_summary, as_datetime(repl_since), now)
        worst = _worse(ha, repl)
        if warnings.__class__ is str:  # the JSON text of a board query
            warnings = _decode(warnings)[0] if warnings != "[]" else []
        if warnings:
            warnings = with_fresh_lag(warnings, lag)
    else:  # what was recorded is as stale as its warnings
        ha_line = _stale_line(HA_LABEL, ha, ha_cause, checked or as_datetime(ha_since), age)
        repl_line = _stale_line(REPL_LABEL, repl, repl_cause, checked or as_datetime(repl_since), age)
        worst, warnings = UNKNOWN, []
    if risk_marker.__class__ is str:  # the JSON text of a board query; the warnings' own checkup keeps them true
        risk_marker = _decode(risk_marker)[0] if risk_marker not in ("{}", "") else {}
    return PairView(pk, name, topology, paused, ha_line, repl_line, checked, age, bound, lag, lag_warning, worst,
                    warnings or [], risk_marker or {})


def lag_figure(lag: float) -> str:
    """The heartbeat lag as the pair page's card and the lag warning both show it."""
    return f"{lag:.3f} s"


def with_fresh_lag(warnings: list[str], lag: float | None) -> list[str]:
    """The heartbeat lag warnings with the lag of the last poll, the figure the card beside them shows.

    The stored warnings are rewritten only when something but a number changed, or every DETAILS_EVERY
    seconds (monitor/poller.py), while the lag is written at every poll: their own figure may be that old.
    The worst direction's warning takes the fresh lag (the pair's lag is the worst direction's age); another
    direction above the threshold too keeps its words without an old figure.
    """
    if lag is None or not any("heartbeat age " in w for w in warnings):
        return warnings
    found = [(float(m.group(1)), i, m.group(2)) for i, w in enumerate(warnings) if (m := _LAG_WARNING.match(w))]
    if not found:
        return warnings
    worst = max(found)[1]
    out = list(warnings)
    for _, i, rest in found:
        out[i] = f"heartbeat age {lag_figure(lag)} {rest}" if i == worst else f"heartbeat age {rest}"
    return out


def matches(view: PairView, status: str) -> bool:
    return status_matches(status, view.ha.status, view.repl.status, view.worst)


def status_matches(status: str, ha: str, repl: str, worst: str) -> bool:
    """The status filter: one of the statuses, or "problems" (not both Alive)."""
    if status == "problems":
        return worst != ALIVE
    return not status or status in (ha, repl)


def sort_key(view: PairView) -> tuple[int, str]:
    return order_key(view.worst, view.name)


def order_key(worst: str, name: str) -> tuple[int, str]:
    return RANK[worst], name  # failed pairs first


def monitor_banner(now: float | None = None) -> dict:
    state = coordination.monitor_state(now)
    # The age inside the reason would freeze under a 304; the banner shows a ticking age beside it instead.
    state["reason"] = re.sub(r" for \d+ s$", "", state["reason"])
    since = state.get("since")
    when = dt.datetime.fromtimestamp(since, dt.UTC) if since else None
    state["since_text"] = absolute(when)
    state["since_dt"] = when
    state["age_text"] = humanize((now or dt.datetime.now(dt.UTC).timestamp()) - since) if since else ""
    return state


def exit_code(views: list[PairView]) -> int:
    """The Nagios convention: 0 all alive, 2 any failed, 3 any unknown (stale included)."""
    worst = min((v.worst for v in views), key=RANK.__getitem__, default=ALIVE)
    return {ALIVE: 0, FAILED: 2, UNKNOWN: 3}[worst]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _api_line(s: StatusLine) -> dict:
    return {"status": s.status, "recorded_status": s.stored, "cause": s.cause, "summary": s.summary,
            "since": s.since}


def api_pair(view: PairView) -> dict:
    """A pair as the API shows it. Instants stay datetimes: the encoder writes them in ISO 8601 (orjson does
    that in C, a tenth of `isoformat()`'s time at a thousand pairs)."""
    return {
        "id": view.id, "name": view.name, "url": view.url, "topology": view.topology, "paused": view.paused,
        "ha": _api_line(view.ha), "replication": _api_line(view.repl), "fresh": view.fresh,
        "last_checked": view.last_checked, "last_check_age_seconds": _round(view.check_age),
        "stale_after_seconds": view.stale_after, "heartbeat_lag_seconds": _round(view.lag),
        "warnings": view.warnings, "warnings_before_failures": risk_counts(view.risk_marker),
    }


def risk_counts(marker: dict) -> dict:
    """The open warnings before failures of a pair, as the API and the board count them."""
    return {"critical": marker.get("critical", 0), "warning": marker.get("warning", 0),
            "unknown": marker.get("unknown", 0), "worst": marker.get("worst"), "codes": marker.get("codes", [])}


def risk_view(r) -> dict:
    """One open warning before a failure (a monitor.models.PairRisk), for the pair page and the API."""
    return {"code": r.code, "severity": r.severity, "subject": r.subject, "summary": r.summary,
            "remediation": r.remediation, "evidence": r.evidence, "raised_at": r.raised_at,
            "last_seen": r.checked_at}


def _flag(value: object) -> str:
    return {True: "yes", False: "no", None: "unknown"}.get(value, str(value))  # type: ignore[arg-type]


def node_views(pair: Pair) -> list[dict]:
    """Each node as configured and as last read: the pair page's node and direction tables."""
    readings = pair.readings or {}
    out = []
    for node in pair.nodes.all():
        r = readings.get(node.role) or {}
        other = "secondary" if node.role == "primary" else "primary"
        hb = r.get("peer_heartbeat") or {}
        directions = [{
            "label": f"{other}→{node.role}" + (f" (channel {c['name']})" if c.get("name") else ""),
            "source": f"{c.get('source_host')}:{c.get('source_port')}",
            "io_running": c.get("io_running") or "unknown", "sql_running": c.get("sql_running") or "unknown",
            "io_state": c.get("io_state", ""), "sql_state": c.get("sql_state", ""),
            "io_errno": c.get("last_io_errno") or 0, "io_error": c.get("last_io_error", ""),
            "sql_errno": c.get("last_sql_errno") or 0, "sql_error": c.get("last_sql_error", ""),
            "seconds_behind": c.get("seconds_behind"), "gtid_io_pos": c.get("gtid_io_pos", ""),
            "tls": _flag(c.get("ssl_allowed")), "tls_verify": _flag(c.get("ssl_verify")),
            "heartbeat_age": humanize(hb["age"]) if hb.get("age") is not None else (hb.get("error") or "not read"),
        } for c in r.get("channels") or []]
        out.append({
            "role": node.role, "address": node.address, "read": bool(r), "reach": r.get("reach", "not read"),
            "errno": r.get("errno"), "error": r.get("error", ""), "version": r.get("version", ""),
            "read_only": _flag(r.get("read_only")), "server_id": r.get("server_id"),
            "gtid_position": r.get("gtid_position", ""), "tls_cipher": r.get("tls_cipher", ""),
            "latency_ms": r.get("latency_ms"), "heartbeat_written": _flag(r.get("heartbeat_written")),
            "heartbeat_error": r.get("heartbeat_error", ""), "parse_error": r.get("parse_error", ""),
            "directions": directions,
        })
    return out
