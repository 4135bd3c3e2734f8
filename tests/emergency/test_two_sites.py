"""Two sites, the panel at the secondary's site (docs/operations.md, "Two sites"): on the network lab the sites
split, users at the secondary's site read a password from the local copy, their audit waits in the outbox, and a
real worker delivers it to the primary once, when the sites are joined again.

The table test below pins what the gate tells users from the statuses the monitor recorded.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from devtools.sandbox import SandboxPair
from emergency import connect
from emergency.gate import LINK_CUT, PRIMARY_DOWN, PRIMARY_HUNG, PRIMARY_SILENT, recorded_why
from emergency.models import Access, OutboxEvent
from emergency.outbox import outbox_backlog
from monitor.models import Pair
from tests.emergency_steps import closed_text, plain, reveal_scenario, urls
from tests.services import started_sandbox, wait_for
from tests.waiting import flips, statuses, wait_status


@pytest.mark.parametrize("ha, cause, primary_reach, why", [
    ("Failed", "primary-down", "refused", PRIMARY_DOWN),  # the host answered: its server is gone
    # Silent to the monitor and to the secondary: down, or working beyond a partition (the panel at the
    # secondary's site sees a split of the sites exactly so).
    ("Failed", "primary-down", "timeout", PRIMARY_SILENT),
    ("Failed", "primary-down", "error", PRIMARY_SILENT),
    ("Failed", "primary-down", None, PRIMARY_SILENT),  # no recorded reading to tell
    ("Failed", "primary-hung", "timeout", PRIMARY_HUNG),
    ("Failed", "link-cut", "ok", LINK_CUT),
    ("Unknown", "link-cut", "ok", None),
    ("Failed", "stopped-by-operator", "ok", None),
    ("Alive", "ok", "timeout", None),  # the panel's own view is the gate's live check, not a recorded status
], ids=["refused", "silent", "unroutable", "no-reading", "hung", "link-cut", "link-unknown", "operator", "alive"])
def test_what_the_recorded_statuses_tell_users(ha, cause, primary_reach, why):
    assert recorded_why(ha, cause, primary_reach) == why


@pytest.fixture(scope="module")
def network_lab() -> SandboxPair:
    """A lab of this module's own: its port and subnet are apart from the monitor's lab tests."""
    lab = started_sandbox(settings.VAR_DIR / f"test-two-sites-{settings.TEST_SLOT}", 3705 + 10 * settings.TEST_SLOT,
                          hosts=True)
    yield lab
    lab.down()


@pytest.fixture
def two_sites(transactional_db, network_lab, worker):
    """The lab registered with its demo vault, watched by a real worker (beat, polls, drain), Alive/Alive."""
    from devtools.demo_vault import seed
    from devtools.registry import register

    pair = register(network_lab, name="two-sites")
    demo = seed(network_lab, pair)
    wait_for(lambda: network_lab.sql("secondary", "SELECT COUNT(*) AS n FROM vault.grants")[0]["n"] >= 4, 10,
             "the demo vault to replicate to the secondary")
    connect.forget_reach()
    wait_status(pair.pk, "Alive", "Alive")
    yield pair, demo
    if network_lab.faults:
        network_lab.heal()
    connect.forget_reach()


def audit_counts(lab: SandboxPair, role: str, ids: list[str]) -> dict[tuple[str, str], int]:
    """(event id, operation) -> how many rows the node's vault audit table holds of it."""
    marks = ", ".join(f"'{i}'" for i in ids)
    rows = lab.sql(role, f"SELECT event_id, operation, COUNT(*) AS n FROM vault.audit "
                         f"WHERE event_id IN ({marks}) GROUP BY event_id, operation")
    return {(r["event_id"], r["operation"]): r["n"] for r in rows}


def test_sites_split_with_the_panel_beside_the_secondary(network_lab, two_sites, anonymous_client, viewer_client):
    pair, demo = two_sites
    pid = pair.pk
    network_lab.fault("partition-secondary-side")

    # Users at the secondary's site: the page opens on the panel's own check, before the monitor speaks.
    def login_page() -> str:
        page = anonymous_client.get(urls(pair)["login"])
        return plain(page.content.decode()) if page.status_code == 200 else ""

    banner = wait_for(login_page, 5, "the emergency page to open")
    assert "The main vault server does not answer since" in banner

    # The monitor: the primary is silent to the panel and to the secondary. From this site that is a dead host
    # or a split of the sites; the page keeps saying "does not answer", never "is down".
    wait_status(pid, "Failed", cause="primary-down", timeout=10)
    assert statuses(pid) == ("Failed", "primary-down", "Unknown", "primary-unreachable")
    recorded = Pair.objects.get(pk=pid)
    assert recorded.readings["primary"]["reach"] == "timeout" and recorded.readings["secondary"]["reach"] == "ok"
    assert "does not answer the monitor (timeout)" in recorded.ha_summary
    text = plain(reveal_scenario(anonymous_client, recorded, demo))
    assert demo.secrets[("firewall-hq", "admin")] in text
    assert "The main vault server does not answer since" in text and "is down" not in text

    # The audit waits in the outbox: the worker's drain meets the silent primary, and the pair page says so.
    events = list(OutboxEvent.objects.filter(pair=pair).order_by("id"))
    ids = [str(e.event_id) for e in events]
    assert [(e.operation, e.username, e.delivered) for e in events] == [
        ("login", "alice", None), ("password-retrieval", "alice", None), ("logout", "alice", None)]
    wait_for(lambda: "does not answer" in Access.objects.get(pair=pair).drain_error, 15,
             "the worker's drain to fail on the silent primary")
    page = plain(viewer_client.get(f"/pairs/{pid}/").content.decode())
    assert "3 audit events not yet delivered to the primary" in page
    assert "Last delivery failed at" in page and "the primary does not answer: timed out" in page
    assert outbox_backlog(pair)[0] == 3 and audit_counts(network_lab, "primary", ids) == {}

    # The sites join again: the worker delivers each event to the primary once, the pair is Alive, the page
    # closes and sends users back to the main vault.
    network_lab.heal()
    wait_for(lambda: outbox_backlog(pair) == (0, None), 20, "the worker's drain to deliver the outbox")
    once = {(str(e.event_id), e.operation): 1 for e in events}
    assert audit_counts(network_lab, "primary", ids) == once
    wait_status(pid, "Alive", "Alive")
    assert flips(pid, "ha") == [("Unknown", "Alive", "ok"), ("Alive", "Failed", "primary-down"),
                                ("Failed", "Alive", "ok")]
    assert Access.objects.get(pair=pair).drain_error == ""
    wait_for(lambda: anonymous_client.get(urls(pair)["login"]).status_code == 403, 10, "the page to close")
    assert "The main vault server is working" in closed_text(anonymous_client, pair)
    assert "Every emergency-access audit event has reached the primary" in plain(
        viewer_client.get(f"/pairs/{pid}/").content.decode())
    # Replicated back to the secondary, still once.
    wait_for(lambda: audit_counts(network_lab, "secondary", ids) == once, 10,
             "the audit rows to replicate to the secondary")
