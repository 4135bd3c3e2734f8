"""A panel upgrades in place: a database written by the schema before the apps were laid out along the data
flow (`schema-before.sql`: pairs, nodes, transitions, notifications, the emergency outbox, the change log)
migrates with today's code, and every row is found where the new models look for it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DUMP = Path(__file__).with_name("schema-before.sql")
# The secret the dump's rows were encrypted under (development derives the encryption keys from it).
SECRET_KEY = "upgrade-fixture-secret-key"

FIND = """
import json, django
django.setup()
from alerts.models import Attempt, Channel, FlapEpisode, Notification, Route
from emergency.models import Access, Drill, OutboxEvent
from monitor.models import Node, Pair, Transition
from pairs.models import PairChange
pair = Pair.objects.get(name="vault-eu")
print(json.dumps({
    "pairs": sorted(Pair.objects.values_list("name", flat=True)),
    "statuses": [pair.ha_status, pair.ha_cause, pair.repl_status],
    "passwords": {n.role: n.get_password() for n in pair.nodes.all()},
    "known_as": pair.node("primary").known_as,
    "transitions": sorted((t.kind, t.old_status, t.new_status, t.cause) for t in pair.transitions.all()),
    "notification": list(Notification.objects.values_list("transition__cause", "channel__name", "status")),
    "attempts": Attempt.objects.count(), "routes": list(Route.objects.values_list("event", flat=True)),
    "channels": Channel.objects.count(), "flap_episodes": FlapEpisode.objects.count(),
    "outbox": sorted((e.operation, e.delivered is not None) for e in OutboxEvent.objects.all()),
    "vault_reader": Access.objects.get(pair=pair).reader_password(),
    "drills": Drill.objects.count(), "changes": list(PairChange.objects.values_list("pair_name", "action")),
}))
"""


def _run(args: list[str], database: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAPANEL_", "DJANGO_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="hapanel.settings", HAPANEL_DEVELOPMENT="1", SECRET_KEY=SECRET_KEY,
               DATABASE_URL=f"sqlite:///{database}", LOG_LEVEL="WARNING")
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_a_database_of_the_earlier_layout_migrates_and_keeps_every_row(tmp_path: Path):
    database = tmp_path / "panel.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.executescript(DUMP.read_text())

    _run(["manage.py", "migrate", "--noinput"], database)
    plan = _run(["manage.py", "showmigrations", "--plan"], database)
    assert "[ ]" not in plan, plan

    found = json.loads(_run(["-c", FIND], database))
    assert found == {
        "pairs": ["vault-eu", "vault-us"],
        "statuses": ["Failed", "primary-down", "Alive"],
        "passwords": {"primary": "monitor-password-primary", "secondary": "monitor-password-secondary"},
        "known_as": "db1.example,10.0.0.7",
        "transitions": [["ha", "Alive", "Failed", "primary-down"], ["replication", "Unknown", "Alive", "ok"]],
        "notification": [["primary-down", "ops hook", "sent"]],
        "attempts": 1, "routes": ["ha-failed"], "channels": 1, "flap_episodes": 1,
        "outbox": [["login", False], ["password-retrieval", True]],
        "vault_reader": "reader-password",
        "drills": 1, "changes": [["vault-eu", "create"]],
    }
