"""Vault consistency, the Django side: compares a pair's two copies of the vault (monitor/probe/vault_compare.py),
keeps the last result per pair, and raises or clears the `vault-drift` warning before a failure.

Both nodes are read with emergency access's reader account: it has SELECT on the vault on both nodes already,
which is all a comparison needs; the monitor account is given nothing more. The comparison only reads, under
read-only snapshots, with no locks: the servers are not changed.

Runs daily by default (HAPANEL_VAULT_COMPARE_SECONDS, a beat entry that queues the pairs that are due) and when
an admin asks on the pair page. One comparison of a pair at a time (a lease in the cache); a result older than
the stored one is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from emergency.connect import connect
from emergency.models import Access, VaultComparison
from hapanel.durations import humanize
from monitor import risk_record
from monitor.models import Node, Pair, PairRisk
from monitor.risks.vault import Comparison, drift_risks
from monitor.vocabulary import RiskCode

log = logging.getLogger(__name__)
LEASE_SECONDS = 120.0  # longer than a comparison may take (two waits and the reads); a killed one frees it after
WAIT = 30.0  # seconds the secondary may take to reach the primary's position, and back in a bidirectional pair
WEB_WAIT = 10.0  # seconds the secondary may take to catch up while an admin waits for the page
BUSY = "a comparison of this pair is running already"
NOT_CONFIGURED = ("emergency access is not configured for this pair: the comparison reads both copies with its "
                  "reader account (manage.py vault init)")
# What users of the emergency page are told while the last comparison found the copy different.
USER_NOTE = ("The copy may differ from the main vault for some entries: check a password with an administrator "
             "before you rely on it.")


def compare_pair(pair_id: int, due_only: bool = False, wait: float = WAIT) -> str:
    """One comparison of one pair, stored; what happened, in words for the task's log. With `due_only`, a pair
    compared within the last period is left alone (a late or repeated task)."""
    pair = Pair.objects.filter(pk=pair_id).first()
    if pair is None:
        return "gone"
    if due_only and pair.pk not in due_pairs(only=[pair.pk]):
        return "not due"
    lease = f"vault-compare:{pair.pk}"
    try:
        if not cache.add(lease, 1, timeout=LEASE_SECONDS):
            return BUSY
    except Exception:  # noqa: BLE001 (a cache outage must not stop the comparison: it writes nothing anywhere)
        lease = ""
    try:
        return _compare(pair, wait)
    finally:
        if lease:
            try:
                cache.delete(lease)
            except Exception:  # noqa: BLE001 (the lease expires by itself)
                pass


def _compare(pair: Pair, wait: float) -> str:
    started = timezone.now()
    access = Access.objects.filter(pair=pair).first()
    if access is None:
        result, account = Comparison(error=NOT_CONFIGURED), ""
    else:
        result, account = _run(pair, access, wait), access.reader_user
    stored = store(pair.pk, result, started, timezone.now(), account, access.schema if access else "")
    if result.error:
        log.warning("vault comparison of %s could not run: %s", pair.name, result.error)
    elif result.differs:
        log.warning("vault comparison of %s: the secondary's copy differs at %s (%s)", pair.name, result.position,
                    ", ".join(f"{t.table}: {len(t.differing)} row(s)" for t in result.tables if t.differs))
    return f"{result.outcome}{'' if stored else ' (dropped: a newer comparison was stored)'}"


def _run(pair: Pair, access: Access, wait: float) -> Comparison:
    from monitor.probe import vault_compare as probe  # the database driver: loaded by workers, not by the pages

    nodes = {n.role: n for n in Node.objects.filter(pair=pair)}
    if set(nodes) != {Node.PRIMARY, Node.SECONDARY}:
        return Comparison(error="the pair lacks a primary or a secondary node")
    try:
        password = access.reader_password()
    except Exception as exc:  # noqa: BLE001 (a stored secret that no longer decrypts: say so, never its text)
        return Comparison(error=f"the reader account's stored password cannot be decrypted ({type(exc).__name__})")
    opened = []
    try:
        for role in (Node.PRIMARY, Node.SECONDARY):
            try:
                conn = connect(nodes[role], pair, access.reader_user, password, timeout=max(2.0, wait / 4 + 1))
            except Exception as exc:  # noqa: BLE001 (named by classify: refused, timeout, TLS, auth ...)
                from monitor.probe.errors import classify

                reach, errno, message = classify(exc)
                return Comparison(error=f"cannot connect to the {role} as {access.reader_user}: {reach.value}: "
                                        f"{message}" + (f" ({errno})" if errno else ""))
            opened.append(conn)
        try:
            primary, secondary = (probe.Node.on(c, role) for c, role in zip(opened, ("primary", "secondary"),
                                                                              strict=True))
        except Exception as exc:  # noqa: BLE001 (an answer the probe cannot read, a node that went away)
            return Comparison(error=str(exc)[:400])
        return probe.compare(primary, secondary, access.schema, bidirectional=pair.topology == "bidirectional",
                             wait=wait)
    finally:
        for conn in opened:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 (closing a dead socket may fail any way it likes)
                pass


def store(pair_id: int, result: Comparison, started: dt.datetime, finished: dt.datetime, account: str,
          schema: str) -> bool:
    """Keeps the result as the pair's last comparison, and records its warning, unless a comparison that started
    later was stored first. One that could not run changes no warning: it judged nothing."""
    fields = {"started_at": started, "finished_at": finished, "outcome": result.outcome, "account": account,
              "position": result.position[:2000], "tables": [t.to_dict() for t in result.tables],
              "rounds": result.rounds, "error": result.error[:500]}
    with transaction.atomic():
        if not VaultComparison.objects.filter(pair_id=pair_id, started_at__lt=started).update(**fields):
            try:
                with transaction.atomic():
                    VaultComparison.objects.create(pair_id=pair_id, **fields)
            except IntegrityError:
                return False  # a newer comparison is stored already
        if not result.error:
            risk_record.record_check(pair_id, RiskCode.VAULT_DRIFT, drift_risks(result, schema), finished)
    return True


def due_pairs(now: dt.datetime | None = None, only: list[int] | None = None) -> list[int]:
    """Pairs with emergency access whose last comparison is older than HAPANEL_VAULT_COMPARE_SECONDS, or that
    have none."""
    now = now or timezone.now()
    since = now - dt.timedelta(seconds=settings.VAULT_COMPARE_SECONDS)
    qs = Pair.objects.filter(emergency__isnull=False).filter(
        Q(vault_comparison__isnull=True) | Q(vault_comparison__started_at__lt=since))
    if only is not None:
        qs = qs.filter(pk__in=only)
    return list(qs.order_by("pk").values_list("pk", flat=True))


def pair_block(pair: Pair) -> dict:
    """What the pair page shows of the vault copies: the last comparison, and how often they are compared."""
    return {"vault_comparison": VaultComparison.objects.filter(pair=pair).first(),
            "vault_compare_every": humanize(settings.VAULT_COMPARE_SECONDS)}


def copy_may_differ(pair: Pair) -> bool:
    """For the emergency pages: is the warning that the secondary's copy differs open? (A comparison that could
    not run since leaves it open: nothing says the copy was put right.)"""
    return PairRisk.objects.filter(pair=pair, code=RiskCode.VAULT_DRIFT, cleared_at__isnull=True).exists()
