"""Connections emergency access makes: a kept SELECT-only one to the secondary, a short one to the
primary for the audit drain, and the primary reachability check, cached per process.

Nothing here touches Django's cache: emergency access must work with Redis stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings

from emergency.models import Access
from monitor.models import Node, Pair
from monitor.probe.target import NodeTarget, tls_context
from monitor.targets import target_for

if TYPE_CHECKING:
    import pymysql  # loaded when a connection is made, not with the URLconf

log = logging.getLogger(__name__)
_local = threading.local()
_reach: dict[tuple[str, int], PrimaryReach] = {}
_reach_lock = threading.Lock()
_nodes: dict[int, tuple[float, dict[str, Node]]] = {}
T = TypeVar("T")


@dataclass(frozen=True)
class PrimaryReach:
    ok: bool
    checked: float  # monotonic
    down_since: float | None  # wall clock, first failed check in this process
    error: str = ""
    # How the check failed (monitor.readings.Reach values): "refused" and "timeout" say the server is gone
    # or hung; "auth" and "tls" only say this panel cannot log in, which is no reason to open the page.
    kind: str = "ok"

    @property
    def server_gone(self) -> bool:
        return not self.ok and self.kind in ("refused", "timeout")


@lru_cache(maxsize=64)
def _tls(target: NodeTarget):
    return tls_context(target)  # built once per node settings: loading a CA costs milliseconds


def connect(node: Node, pair: Pair, user: str, password: str, timeout: float) -> pymysql.Connection:
    target = replace(target_for(node, pair), user=user, password=password, timeout=timeout)
    ctx = _tls(replace(target, password=""))
    kwargs: dict = {"ssl": ctx} if ctx else {"ssl_disabled": True}
    import pymysql  # here, not at the top: the pages load the driver only once emergency access connects

    return pymysql.connect(
        host=target.host, port=target.port, user=user, password=password, autocommit=True, charset="utf8mb4",
        connect_timeout=timeout, read_timeout=timeout * 4, write_timeout=timeout * 4,
        cursorclass=pymysql.cursors.DictCursor, **kwargs,
    )


def nodes(pair: Pair) -> dict[str, Node]:
    """The pair's nodes, kept a few seconds per process: settings change rarely, requests come often."""
    now = time.monotonic()
    with _reach_lock:
        hit = _nodes.get(pair.pk)
    if hit is None or now - hit[0] > settings.EMERGENCY_REACH_CACHE:
        hit = (now, {n.role: n for n in Node.objects.filter(pair_id=pair.pk)})
        with _reach_lock:
            _nodes[pair.pk] = hit
    return hit[1]


def read(access: Access, query: Callable[..., T], *args) -> T:
    """Runs `query(conn, *args)` on this thread's kept reader connection to the secondary.

    No ping first (a round trip on every request): a kept connection that went stale fails the
    query, and the query is then run once more on a fresh connection.
    """
    import pymysql

    pair = access.pair
    node = nodes(pair)[Node.SECONDARY]
    key = (pair.pk, node.host, node.port, access.reader_user, access.reader_password_enc)
    kept = _local.__dict__.setdefault("conns", {})
    conn = kept.get(key)
    if conn is not None:
        try:
            return query(conn, *args)
        except (pymysql.OperationalError, pymysql.InterfaceError):
            kept.pop(key, None)
            conn.close()
    conn = kept[key] = connect(node, pair, access.reader_user, access.reader_password(), timeout=2.0)
    return query(conn, *args)


def primary_writer(access: Access) -> pymysql.Connection:
    pair = access.pair
    return connect(nodes(pair)[Node.PRIMARY], pair, access.writer_user, access.writer_password(), timeout=2.0)


def primary_reach(pair: Pair) -> PrimaryReach:
    """Can this panel reach the pair's primary (monitor account, short timeout)? Cached a few seconds."""
    node = nodes(pair)[Node.PRIMARY]
    return _reach_check(("primary", pair.pk), lambda: connect(
        node, pair, node.monitor_user, node.get_password(), settings.EMERGENCY_REACH_TIMEOUT))


def copy_reach(access: Access) -> PrimaryReach:
    """Can the copy on the secondary be read (the reader account, short timeout)? Cached a few seconds."""
    pair = access.pair
    node = nodes(pair)[Node.SECONDARY]
    return _reach_check(("secondary", pair.pk), lambda: connect(
        node, pair, access.reader_user, access.reader_password(), settings.EMERGENCY_REACH_TIMEOUT))


def _reach_check(key: tuple[str, int], open_connection: Callable[[], pymysql.Connection]) -> PrimaryReach:
    now = time.monotonic()
    with _reach_lock:
        last = _reach.get(key)
    if last is not None and now - last.checked < settings.EMERGENCY_REACH_CACHE:
        return last
    try:
        open_connection().close()
        result = PrimaryReach(ok=True, checked=now, down_since=None)
    except Exception as exc:  # noqa: BLE001 (every failure is named by classify below)
        from monitor.probe.errors import classify  # the driver's errors: loaded once a connection failed

        reach, _, message = classify(exc)
        since = last.down_since if last is not None and not last.ok else time.time()
        result = PrimaryReach(ok=False, checked=now, down_since=since, error=message, kind=str(reach))
        # Here, not where the answer is used: once per check, not once per request, while it lasts.
        log.warning("emergency access: this panel cannot connect to the %s of pair %d (%s): %s", key[0], key[1],
                    result.kind, message)
    with _reach_lock:
        _reach[key] = result
    return result


def forget_reach() -> None:
    with _reach_lock:
        _reach.clear()
        _nodes.clear()
