"""The heartbeat lag warning and the lag card beside it show one figure at every refresh, on a real pair whose
secondary stopped receiving: its heartbeat ages by the second while the stored warnings are rewritten only
every DETAILS_EVERY seconds."""

from __future__ import annotations

import re

from django.test import Client

from board.presenters import with_fresh_lag
from monitor import poller as monitor
from monitor.models import Pair
from tests.services import wait_for

CARD = re.compile(r"Heartbeat lag: <span[^>]*>([\d.]+) s</span>")
WARNING = re.compile(r"heartbeat age ([\d.]+) s on the secondary")


def _pair_page(client: Client, pair: Pair) -> tuple[str, str]:
    page = client.get(f"/pairs/{pair.pk}/").content.decode()
    card, warning = CARD.search(page), WARNING.search(page)
    assert card and warning, "the pair page shows no lag card or no lag warning"
    return card.group(1), warning.group(1)


def _board_row(client: Client, pair: Pair) -> tuple[str, str]:
    fragment = client.get("/board/").content.decode()
    row = re.search(rf'<tbody[^>]*data-pair="{pair.name}">.*?</tbody>', fragment, re.S)
    assert row, "the board has no row for the pair"
    lag, warning = re.search(r'class="lag high">([\d.]+) s<', row.group(0)), WARNING.search(row.group(0))
    assert lag and warning, "the board row shows no high lag or no lag warning"
    return lag.group(1), warning.group(1)


def test_the_lag_warning_shows_the_figure_of_the_card_at_every_refresh(sandbox_pair, healthy, viewer_client):
    pair = sandbox_pair
    Pair.objects.filter(pk=pair.pk).update(lag_warning=1.0)
    pair.refresh_from_db()

    def warned() -> bool:
        monitor.poll(pair)
        return any("heartbeat age" in w for w in Pair.objects.get(pk=pair.pk).warnings)

    try:
        wait_for(lambda: monitor.poll(pair).health.lag is not None, 10, "the monitor's heartbeat to replicate")
        healthy.fault("stop-io")  # the secondary stops fetching from the primary: the heartbeat there ages
        wait_for(warned, 15, "the secondary's heartbeat age to pass the 1 s threshold")
        stored = Pair.objects.get(pk=pair.pk).warnings
        shown: list[str] = []

        def refresh_agrees() -> bool:
            monitor.poll(pair)
            card, warning = _pair_page(viewer_client, pair)
            assert warning == card, f"the warning says {warning} s while the card says {card} s"
            lag, board_warning = _board_row(viewer_client, pair)
            assert f"{float(board_warning):.2f}" == lag, f"board: warning {board_warning} s, lag {lag} s"
            shown.append(card)
            return float(card) - float(shown[0]) > 1.5  # past the first figure's tenth, and beyond

        wait_for(refresh_agrees, monitor.DETAILS_EVERY - 2, "the lag to grow by 1.5 s while the warning follows it")
        # The documents were not rewritten meanwhile: the figures come from the lag written at every poll.
        assert Pair.objects.get(pk=pair.pk).warnings == stored
        assert len(set(shown)) == len(shown) > 2
    finally:
        monitor.forget(pair.pk)


def test_a_second_direction_above_the_threshold_keeps_its_words_without_an_old_figure():
    stored = ["heartbeat age 7.0 s on the secondary (primary → secondary) is above 5 s",
              "heartbeat age 6.1 s on the primary (secondary → primary) is above 5 s",
              "slave_net_timeout is 60 s on the secondary: link cut detection by the replica will take 60 s"]
    assert with_fresh_lag(stored, 7.4) == [
        "heartbeat age 7.400 s on the secondary (primary → secondary) is above 5 s",
        "heartbeat age on the primary (secondary → primary) is above 5 s",
        stored[2],
    ]
    assert with_fresh_lag(stored, None) == stored  # no fresh lag: nothing to put in
