"""What an admin does to a pair, each recorded in the change log. Views call these and redirect."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from monitor.models import Pair
from pairs import changes
from pairs.forms import PairEditor
from pairs.models import PairChange


def save(editor: PairEditor, user) -> Pair:
    """Creates or updates the pair; records what changed (nothing recorded when nothing did)."""
    before = changes.snapshot(editor.pair)
    with transaction.atomic():
        pair = editor.save()
        diff = changes.diff(before, changes.snapshot(pair))
        if diff or not before:
            changes.log_change(pair, user, PairChange.EDITED if before else PairChange.CREATED, diff)
    return pair


@transaction.atomic
def set_paused(pair: Pair, user, paused: bool) -> None:
    if pair.paused == paused:
        return
    Pair.objects.filter(pk=pair.pk).update(paused=paused)
    changes.log_change(pair, user, PairChange.PAUSED if paused else PairChange.RESUMED,
                   {"paused": {"old": pair.paused, "new": paused}})
    pair.paused = paused


@transaction.atomic
def delete(pair: Pair, user, keep_history: bool) -> None:
    """Keep history: the pair is archived (hidden, never polled) so its transitions survive.

    The archived pair gives up its name, so a new pair may take it.
    """
    if keep_history:
        changes.log_change(pair, user, PairChange.DELETED, note="history kept")
        stamp = timezone.now().strftime("%Y-%m-%d %H:%M")
        pair.name = f"{pair.name[:60]} (deleted {stamp} #{pair.pk})"
        pair.archived, pair.paused = True, True
        pair.save(update_fields=["name", "archived", "paused"])
    else:
        changes.log_change(pair, user, PairChange.DELETED, note="history removed")
        pair.delete()  # the change log rows keep the name (pair set to NULL)
