"""`manage.py hastatus`: the statuses for scripts and existing monitoring (Nagios plugin exit codes)."""

import datetime as dt
import json

from django.core.management.base import BaseCommand

from board import presenters

UNKNOWN_EXIT = 3


class Command(BaseCommand):
    help = ("Print every pair's High Availability and Replication status. Exit code: 0 all Alive, 2 any Failed, "
            "3 any Unknown (a stale reading counts as Unknown), 3 for an unknown pair name or no pairs at all.")

    def add_arguments(self, parser):
        parser.add_argument("--pair", help="only this pair (exact name)")
        parser.add_argument("--json", action="store_true", help="one JSON document, as /api/v1/pairs returns")

    def handle(self, *args, pair=None, json=False, **opts):
        qs = presenters.board_queryset()
        views = [presenters.present(p) for p in (qs.filter(name=pair) if pair else qs)]
        views.sort(key=presenters.sort_key)
        if not views:
            self.stderr.write(f"UNKNOWN: no pair named {pair!r}" if pair else "UNKNOWN: no pairs are configured")
            raise SystemExit(UNKNOWN_EXIT)
        if json:
            self.stdout.write(_dumps({"pairs": [presenters.api_pair(v) for v in views]}))
        else:
            for v in views:
                self.stdout.write(_line(v))
        raise SystemExit(presenters.exit_code(views))


def _line(v: presenters.PairView) -> str:
    checked = f"last checked {v.check_text} ago" if v.last_checked else "never checked"
    head = (f"{v.name}: High Availability Status: {v.ha.status} ({v.ha.cause}); "
            f"Replication Status: {v.repl.status} ({v.repl.cause}); {checked}{'' if v.fresh else ' (stale)'}")
    problems = [f"  {s.label}: {s.summary}" for s in v.statuses() if s.status != presenters.ALIVE and s.summary]
    return "\n".join([head, *problems])


def _dumps(data: dict) -> str:
    return json.dumps(data, indent=2, default=dt.datetime.isoformat)
