"""`manage.py hastatus`: the Nagios exit codes and readable output for existing monitoring."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import recorded

pytestmark = pytest.mark.django_db


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        call_command("hastatus", *args)
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_all_alive_is_0(capsys):
    recorded("alpha").save()
    code, out, _ = run(capsys)
    assert code == 0
    assert out.startswith("alpha: High Availability Status: Alive (ok); Replication Status: Alive (ok); "
                          "last checked")


def test_any_failed_is_2_and_says_why(capsys):
    recorded("alpha").save()
    recorded("bravo", "apply-error").save()
    code, out, _ = run(capsys)
    assert code == 2
    assert out.splitlines()[0].startswith("bravo: High Availability Status: Alive (ok); Replication Status: Failed")
    assert "Replication: The secondary stopped applying changes" in out


def test_stale_is_unknown_3(capsys):
    recorded("alpha", checked=timezone.now() - dt.timedelta(minutes=10)).save()
    code, out, _ = run(capsys)
    assert code == 3 and "High Availability Status: Unknown (monitor-stale)" in out and "(stale)" in out


def test_one_pair_and_json(capsys):
    recorded("alpha").save()
    recorded("bravo", "primary-down").save()
    code, out, _ = run(capsys, "--pair", "alpha", "--json")
    assert code == 0
    data = json.loads(out)
    assert [p["name"] for p in data["pairs"]] == ["alpha"] and data["pairs"][0]["ha"]["status"] == "Alive"
    code, out, _ = run(capsys, "--json")
    assert code == 2 and json.loads(out)["pairs"][0]["ha"]["cause"] == "primary-down"


def test_unknown_pair_and_no_pairs_are_3_with_one_line(capsys):
    code, out, err = run(capsys)
    assert (code, out, err.strip()) == (3, "", "UNKNOWN: no pairs are configured")
    recorded("alpha").save()
    code, out, err = run(capsys, "--pair", "zulu")
    assert (code, out, err.strip()) == (3, "", "UNKNOWN: no pair named 'zulu'")
