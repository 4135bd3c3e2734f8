"""Swapping a pair's roles in the panel: the secondary becomes the primary, the history stays.

The panel changes no server here: an operator promoted the secondary (a switchover or a failover checklist);
this records it, so that the heartbeat, the statuses, the emergency page and its audit drain follow the new
primary (they all pick a node by `Node.role`).
"""

from __future__ import annotations

from django.db import transaction

from monitor.models import Node, Pair, RoleChange
from monitor.signals import roles_changed

_SWAPPING = "swapping"  # a role no node keeps: (pair, role) is unique, so one node steps aside first


def swap(pair_id: int, username: str, reason: str = "", expect_primary: str = "") -> RoleChange | None:
    """Exchanges the roles of the pair's two nodes; returns the record, or None when `expect_primary` (an address)
    is given and is not the primary any more (the swap was made already: a second press does not undo it)."""
    with transaction.atomic():
        pair = Pair.objects.select_for_update().get(pk=pair_id)
        nodes = {n.role: n for n in Node.objects.select_for_update().filter(pair=pair)}
        primary, secondary = nodes[Node.PRIMARY], nodes[Node.SECONDARY]
        if expect_primary and primary.address != expect_primary:
            return None
        Node.objects.filter(pk=primary.pk).update(role=_SWAPPING)
        Node.objects.filter(pk=secondary.pk).update(role=Node.PRIMARY)
        Node.objects.filter(pk=primary.pk).update(role=Node.SECONDARY)
        # The last readings are filed under the old roles: shown under the new ones until the next poll, they
        # would lie about which node is which.
        Pair.objects.filter(pk=pair.pk).update(readings={})
        change = RoleChange.objects.create(pair=pair, username=username, primary=secondary.address,
                                           secondary=primary.address, reason=reason[:300], paused=pair.paused)
        transaction.on_commit(lambda: roles_changed.send(sender=RoleChange, role_change_ids=[change.pk]))
    return change
