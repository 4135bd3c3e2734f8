import json
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError

from monitor import poller as monitor
from monitor.models import Pair


class Command(BaseCommand):
    help = "Poll pairs once, synchronously (no Celery), print the readings and the verdict, record it."

    def add_arguments(self, parser):
        parser.add_argument("--pair", help="pair name (default: every pair)")
        parser.add_argument("--dry-run", action="store_true", help="print only, record nothing")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, pair=None, dry_run=False, json=False, **opts):
        pairs = Pair.objects.prefetch_related("nodes")
        if pair:
            pairs = pairs.filter(name=pair)
            if not pairs:
                raise CommandError(f"no pair named {pair!r}: see `manage.py hastatus` for the names")
        for p in pairs:
            result = monitor.poll(p, record=not dry_run)
            if json:
                self.stdout.write(_json({"pair": p.name, "readings": asdict(result.readings),
                                         "health": result.health.to_dict()}))
                continue
            self.stdout.write(f"== {p.name} ({p.topology})")
            for r in (result.readings.primary, result.readings.secondary):
                chans = "; ".join(f"IO {c.io_running} SQL {c.sql_running} from {c.source_host}:{c.source_port}"
                                  f" io_errno {c.last_io_errno} sql_errno {c.last_sql_errno}" for c in r.channels)
                hb = r.peer_heartbeat
                self.stdout.write(
                    f"  {r.role:<9} {r.address:<20} {r.reach} {r.errno or ''} {r.error} {r.version} "
                    f"read_only={r.read_only} [{chans or 'no replication'}] "
                    f"heartbeat={f'{hb.age:.3f}s' if hb and hb.age is not None else (hb.error if hb else '-')}"
                )
            h = result.health
            self.stdout.write(f"  High Availability Status: {h.ha.status} ({h.ha.cause}) {h.ha.summary}")
            self.stdout.write(f"  Replication Status: {h.replication.status} ({h.replication.cause}) "
                              f"{h.replication.summary}")
            for w in h.warnings:
                self.stdout.write(f"  warning: {w}")
            for t in result.transitions:
                self.stdout.write(f"  recorded: {t}")


def _json(data) -> str:
    return json.dumps(data, default=str, indent=2)
