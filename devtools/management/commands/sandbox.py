import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.sandbox import FAULTS, SandboxError, SandboxPair
from devtools.sandbox.faults import DIRECTIONS, LAB_FAULTS, ROLES


class Command(BaseCommand):
    help = "Start, stop, describe and break the local sandbox MariaDB pair."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        up = sub.add_parser("up", help="start the pair (idempotent) and register it in the panel")
        up.add_argument("--untuned", action="store_true",
                        help="MariaDB's own defaults: slave_net_timeout 60 s, connect retry 60 s")
        up.add_argument("--no-register", action="store_true", help="do not add the pair to the panel")
        up.add_argument("--hosts", action="store_true",
                        help="the network lab: each node in a network namespace of its own on a bridge "
                             "(needs root, iproute2, iptables and tc)")
        sub.add_parser("down", help="stop the processes it started and remove the sandbox data")
        st = sub.add_parser("status", help="each node's role, address and replica threads")
        st.add_argument("--json", action="store_true")
        names = [*FAULTS, *LAB_FAULTS]
        fault = sub.add_parser("fault", help="inject a fault: " + ", ".join(names))
        fault.add_argument("name", help="one of: " + ", ".join(names) + " (the last ones need --hosts)")
        fault.add_argument("node", nargs="?", default="primary", choices=ROLES,
                           help="for host-down, panel-cut and panel-reject (default: primary)")
        fault.add_argument("--direction", default="both", choices=DIRECTIONS, help="for cut-link")
        sub.add_parser("heal", help="undo every injected fault")

    def handle(self, *args, action: str, **opts):
        sandbox = SandboxPair(settings.SANDBOX_DIR, settings.SANDBOX_PORT, tuned=not opts.get("untuned"),
                              hosts=bool(opts.get("hosts")))
        try:
            if action == "up":
                self.stdout.write(sandbox.up())
                if not opts["no_register"]:
                    from devtools.registry import register

                    pair = register(sandbox)
                    self.stdout.write(f"registered as pair {pair.name!r} (id {pair.pk})")
                    from devtools.demo_vault import seed

                    self.stdout.write(seed(sandbox, pair).login_line(f"{settings.SITE_URL}/emergency/"))
            elif action == "down":
                self.stdout.write(sandbox.down())
            elif action == "status":
                self._status(sandbox, opts["json"])
            elif action == "fault":
                self.stdout.write(sandbox.fault(opts["name"], direction=opts["direction"], node=opts["node"]))
            elif action == "heal":
                self.stdout.write(sandbox.heal())
        except SandboxError as exc:
            raise CommandError(str(exc)) from None

    def _status(self, sandbox: SandboxPair, as_json: bool) -> None:
        if not sandbox.state:
            raise CommandError("no sandbox pair is running: run `manage.py sandbox up`")
        rows = sandbox.status()
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for row in rows:
            threads = (f"IO {row.get('io')}, SQL {row.get('sql')} from {row.get('source')}"
                       if "io" in row else row.get("error", ""))
            self.stdout.write(f"{row['role']:<9} {row['address']:<16} pid {row['pid']} {row['process']}; {threads}")
        faults = ", ".join(f["name"] for f in sandbox.faults)
        self.stdout.write(f"faults injected: {faults or 'none'}; {'tuned' if sandbox.tuned else 'untuned'}")
