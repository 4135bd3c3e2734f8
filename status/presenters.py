"""What the pages, the API, the metrics and `hastatus` show for a pair: the stored statuses, made honest.

A status is only as good as its last poll: once `last_checked` is older than `monitor.stale_after(pair)`
the pair shows `Unknown` (cause `monitor-stale`) with the age of its last reading, whatever `Alive` is
stored, because a page that says `Alive` after the monitor died is lying (design.md §5).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from . import liveness, monitor
from .models import Pair

ALIVE, FAILED, UNKNOWN = "Alive", "Failed", "Unknown"
RANK = {FAILED: 0, UNKNOWN: 1, ALIVE: 2}  # the order of the board: failed pairs first
STATUS_FILTERS = ("", FAILED, UNKNOWN, ALIVE, "problems")
STALE_CAUSE = "monitor-stale"
# The columns the board needs; health and readings stay in the database (a few kB per pair).
BOARD_FIELDS = ("id", "name", "topology", "paused", "poll_interval", "lag_warning", "ha_status", "ha_cause",
                "ha_since", "repl_status", "repl_cause", "repl_since", "lag", "last_checked")
NUMERIC_STATUS = {ALIVE: 1, FAILED: 0, UNKNOWN: -1}


def humanize(seconds: float | None) -> str:
    """A duration as an operator reads it at a glance: 0.4 s, 42 s, 5 min 3 s, 3 h 12 min, 2 d 4 h."""
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


def absolute(when: dt.datetime | None) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S %Z") if when else ""


@dataclass(frozen=True)
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
        return f"st-{self.status.lower()}"

    @property
    def since_text(self) -> str:
        return humanize(self.since_age) if self.since else "not yet"


@dataclass
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
    warnings: list[str] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        return self.check_age is not None and self.check_age <= self.stale_after

    @property
    def check_text(self) -> str:
        return humanize(self.check_age)

    @property
    def lag_high(self) -> bool:
        return self.lag is not None and self.lag > self.lag_warning

    @property
    def worst(self) -> str:
        return min(self.ha.status, self.repl.status, key=RANK.__getitem__)

    @property
    def url(self) -> str:
        return f"/pairs/{self.id}/"

    def statuses(self) -> tuple[StatusLine, StatusLine]:
        return self.ha, self.repl


def _stale_summary(age: float | None, stored: str, cause: str) -> str:
    if age is None:
        return "Not checked yet: the monitor has not recorded a poll of this pair"
    return (f"Not checked for {humanize(age)}: the monitor is down or cannot keep up; the last recorded status "
            f"was {stored} ({cause})")


def _row(pair: Pair) -> dict:
    """A Pair instance as the board's row dict (pages that load one pair with its health)."""
    row = {f: getattr(pair, f) for f in BOARD_FIELDS}
    health = pair.health or {}
    row["ha_summary"] = (health.get("ha") or {}).get("summary", "")
    row["repl_summary"] = (health.get("replication") or {}).get("summary", "")
    row["warnings"] = list(health.get("warnings") or [])
    return row


def present(pair: Pair | dict, now: dt.datetime | None = None, bounds: dict | None = None) -> PairView:
    """A Pair, or a row of `board_queryset().values()`, as shown; `bounds` caches stale_after per interval."""
    row = _row(pair) if isinstance(pair, Pair) else pair
    now = now or timezone.now()
    checked = row["last_checked"]
    age = (now - checked).total_seconds() if checked else None
    interval = row["poll_interval"]
    bound = bounds.get(interval) if bounds is not None else None
    if bound is None:
        bound = monitor.stale_after(SimpleNamespace(poll_interval=interval))
        if bounds is not None:
            bounds[interval] = bound
    fresh = age is not None and age <= bound
    warnings = row.get("warnings")
    if warnings is None:  # the JSON text of a board query
        text = row.get("warnings_json")
        warnings = json.loads(text) if text and text != "[]" else []

    def line(label: str, prefix: str) -> StatusLine:
        stored, cause, since = row[f"{prefix}_status"], row[f"{prefix}_cause"], row[f"{prefix}_since"]
        if not fresh:
            return StatusLine(label, UNKNOWN, stored, STALE_CAUSE, _stale_summary(age, stored, cause),
                              checked or since, age)
        since_age = (now - since).total_seconds() if since else None
        return StatusLine(label, stored, stored, cause, row[f"{prefix}_summary"] or "", since, since_age)

    return PairView(
        id=row["id"], name=row["name"], topology=row["topology"], paused=row["paused"],
        ha=line("High Availability", "ha"), repl=line("Replication", "repl"),
        last_checked=checked, check_age=age, stale_after=bound, lag=row["lag"],
        lag_warning=row["lag_warning"], warnings=warnings if fresh else [],
    )


def board_queryset(name: str = "") -> QuerySet:
    """One query for the whole board: the columns it shows, the summaries pulled out of the JSON by the DB."""
    qs = Pair.objects.filter(name__icontains=name) if name else Pair.objects.all()
    return qs.annotate(
        ha_summary=KT("health__ha__summary"), repl_summary=KT("health__replication__summary"),
        warnings_json=KT("health__warnings"),
    ).values(*BOARD_FIELDS, "ha_summary", "repl_summary", "warnings_json")


def matches(view: PairView, status: str) -> bool:
    if status == "problems":
        return view.worst != ALIVE
    return not status or status in (view.ha.status, view.repl.status)


def sort_key(view: PairView) -> tuple[int, str]:
    return RANK[view.worst], view.name


@dataclass
class Board:
    pairs: list[PairView]  # filtered and sorted
    every: list[PairView]  # before the status filter: what the ETag covers
    name: str
    status: str
    monitor: dict
    now: dt.datetime
    counts: dict[str, int]

    @property
    def query(self) -> str:
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in (("name", self.name), ("status", self.status)) if v})

    @property
    def rows_html(self) -> str:
        from .board_html import rows

        return rows(self.pairs)

    @property
    def etag(self) -> str:
        items = ((p.id, p.name, p.paused, p.ha.status, p.repl.status, p.last_checked) for p in self.every)
        return etag_for(self.query, self.monitor, items)


def etag_for(query: str, monitor: dict, items) -> str:
    """Changes when anything the board shows changes, except the ages, which the browser ticks on its own."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{query}|{monitor['ok']}|{monitor['reason'] if not monitor['ok'] else ''}".encode())
    for item in items:
        h.update(repr(item).encode())
    return f'"{h.hexdigest()}"'


def _params(params) -> tuple[str, str]:
    status = params.get("status") or ""
    return (params.get("name") or "").strip()[:100], status if status in STATUS_FILTERS else ""


def board_etag(params, now: dt.datetime | None = None) -> str:
    """The board's ETag from a narrow query, without building the board: the cheap path of a poll."""
    now = now or timezone.now()
    name, status = _params(params)
    qs = Pair.objects.filter(name__icontains=name) if name else Pair.objects.all()
    bounds: dict = {}
    items = []
    for pk, pname, paused, ha, repl, checked, interval in qs.values_list(
            "id", "name", "paused", "ha_status", "repl_status", "last_checked", "poll_interval"):
        bound = bounds.get(interval) or bounds.setdefault(
            interval, monitor.stale_after(SimpleNamespace(poll_interval=interval)))
        if checked is None or (now - checked).total_seconds() > bound:
            ha = repl = UNKNOWN
        items.append((pk, pname, paused, ha, repl, checked))
    query = Board([], [], name, status, {}, now, {}).query
    return etag_for(query, monitor_banner(now.timestamp()), items)


def monitor_banner(now: float | None = None) -> dict:
    state = liveness.monitor_state(now)
    # The age inside the reason would freeze under a 304; the banner shows a ticking age beside it instead.
    state["reason"] = re.sub(r" for \d+ s$", "", state["reason"])
    since = state.get("since")
    when = dt.datetime.fromtimestamp(since, dt.UTC) if since else None
    state["since_text"] = absolute(when)
    state["since_dt"] = when
    state["age_text"] = humanize((now or dt.datetime.now(dt.UTC).timestamp()) - since) if since else ""
    return state


def load_board(params, now: dt.datetime | None = None) -> Board:
    """The board for GET parameters `name` and `status`: filtered, failed pairs first."""
    now = now or timezone.now()
    name, status = _params(params)
    bounds: dict = {}
    views = [present(row, now, bounds) for row in board_queryset(name)]
    counts = {s: sum(1 for v in views if v.worst == s) for s in (FAILED, UNKNOWN, ALIVE)}
    shown = sorted((v for v in views if matches(v, status)), key=sort_key)
    return Board(shown, views, name, status, monitor_banner(now.timestamp()), now, counts)


def exit_code(views: list[PairView]) -> int:
    """The Nagios convention: 0 all alive, 2 any failed, 3 any unknown (stale included)."""
    worst = min((v.worst for v in views), key=RANK.__getitem__, default=ALIVE)
    return {ALIVE: 0, FAILED: 2, UNKNOWN: 3}[worst]


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def api_pair(view: PairView) -> dict:
    def line(s: StatusLine) -> dict:
        return {"status": s.status, "recorded_status": s.stored, "cause": s.cause, "summary": s.summary,
                "since": _iso(s.since)}

    return {
        "id": view.id, "name": view.name, "url": view.url, "topology": view.topology, "paused": view.paused,
        "ha": line(view.ha), "replication": line(view.repl), "fresh": view.fresh,
        "last_checked": _iso(view.last_checked), "last_check_age_seconds": _round(view.check_age),
        "stale_after_seconds": view.stale_after, "heartbeat_lag_seconds": _round(view.lag),
        "warnings": view.warnings,
    }


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
