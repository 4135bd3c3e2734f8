"""What the other apps add to the status pages: alerts sent, config actions and changes, the outbox."""

from __future__ import annotations

from django.http import HttpRequest

from hapanel import roles
from monitor.models import Pair


def pair_extras(request: HttpRequest, pair: Pair) -> dict:
    from alerts.delivery import notifications_for_pair
    from alerts.flapping import is_flapping
    from emergency.outbox import pair_block
    from emergency.vault_compare import pair_block as vault_block
    from pairs.changes import changes_for_pair

    extras = {
        "is_admin": roles.is_admin(request.user),
        "alert_notifications": notifications_for_pair(pair, 20),
        "alert_flapping": is_flapping(pair),
        "changes": changes_for_pair(pair, 20),
    }
    extras.update(pair_block(pair))  # the outbox backlog, its last delivery failure and the drill
    extras.update(vault_block(pair))  # the last comparison of the two copies of the vault
    return extras


def board_extras(request: HttpRequest) -> dict:
    from alerts.delivery import failing_channels

    return {"is_admin": roles.is_admin(request.user), "failing": failing_channels()}
