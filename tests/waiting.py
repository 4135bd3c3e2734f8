"""Waiting for the monitor to record a pair's statuses, and reading back the flips it recorded."""

from __future__ import annotations

from monitor.models import Pair, Transition
from tests.services import wait_for


def statuses(pair_id: int) -> tuple[str, str, str, str]:
    p = Pair.objects.get(pk=pair_id)
    return p.ha_status, p.ha_cause, p.repl_status, p.repl_cause


def wait_status(pair_id: int, ha: str, repl: str | None = None, cause: str | None = None, timeout: float = 20):
    """Waits until the pair's HA status is `ha` (and replication `repl`, and either cause `cause`); returns
    (ha, ha cause, replication, replication cause)."""
    def check():
        s = statuses(pair_id)
        return s[0] == ha and (repl is None or s[2] == repl) and (cause is None or cause in (s[1], s[3]))
    try:
        wait_for(check, timeout, f"HA {ha}, replication {repl}, cause {cause}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen {statuses(pair_id)}") from None
    return statuses(pair_id)


def flips(pair_id: int, kind: str) -> list[tuple[str, str, str]]:
    """The pair's recorded transitions of `kind` ("ha", "replication"), oldest first: (old, new, cause)."""
    return list(Transition.objects.filter(pair_id=pair_id, kind=kind).order_by("id")
                .values_list("old_status", "new_status", "cause"))
