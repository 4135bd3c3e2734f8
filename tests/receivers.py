"""Real alert receivers on loopback, started by the tests: SMTP, snmptrapd, syslog (UDP+TCP), HTTP.

Each records what it received with the time it arrived, can be stopped and started again on the
same port (a receiver that is down), and `wait()`s for a number of messages with a bounded wait.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import free_port, wait_for

MIB_DIR = Path(__file__).resolve().parent.parent / "docs"
# Net-SNMP's own IETF MIBs are non-free in Debian; Erlang's SNMP package ships the ones HAPANEL-MIB imports.
IETF_MIB_DIRS = [d for d in (Path("/usr/share/snmp/mibs/ietf"), *Path("/usr/lib/erlang/lib").glob("snmp-*/mibs"))
                 if d.is_dir()]


@dataclass
class Received:
    at: float  # time.time() on arrival
    body: str
    headers: dict = field(default_factory=dict)


class Receiver:
    name = "receiver"

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()

    def record(self, body: str, headers: dict | None = None) -> None:
        with self.lock:
            self.received.append(Received(time.time(), body, headers or {}))

    def messages(self, containing: str = "") -> list[Received]:
        with self.lock:
            return [m for m in self.received if containing in m.body]

    def wait(self, count: int, containing: str = "", timeout: float = 20) -> list[Received]:
        wait_for(lambda: len(self.messages(containing)) >= count, timeout,
                 f"{count} message(s) containing {containing!r} at the {self.name} receiver "
                 f"(got {len(self.messages(containing))})")
        return self.messages(containing)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class SmtpReceiver(Receiver):
    name = "SMTP"

    def __init__(self, port: int | None = None) -> None:
        super().__init__()
        self.port = port or free_port()
        self.controller = None

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller

        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                body = msg.get_body(("plain",)).get_content()
                receiver.record(f"Subject: {msg['Subject']}\n\n{body}",
                                {**dict(msg.items()), "rcpt_tos": envelope.rcpt_tos})
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


class HttpReceiver(Receiver):
    """Records every POST; answers `status` (200, or 410 for a webhook that is gone)."""

    name = "HTTP"

    def __init__(self, port: int | None = None, status: int = 200) -> None:
        super().__init__()
        self.port = port or free_port()
        self.status = status
        self.hold: threading.Event | None = None  # set: each POST is answered only once this event is set
        self.server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.record(data.decode(), {**dict(self.headers.items()), "path": self.path})
                if receiver.hold is not None:
                    receiver.hold.wait(60)
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 400 else b"gone")

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def json(self) -> list[dict]:
        return [json.loads(m.body) for m in self.messages()]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class SyslogReceiver(Receiver):
    """UDP and TCP (octet-counted frames, RFC 6587) on the same port number."""

    name = "syslog"

    def __init__(self) -> None:
        super().__init__()
        self.port = free_port()
        self.servers: list[socketserver.BaseServer] = []

    def start(self) -> SyslogReceiver:
        receiver = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                receiver.record(self.request[0].decode(), {"transport": "udp"})

        class Tcp(socketserver.StreamRequestHandler):
            def handle(self):
                while True:
                    length = b""
                    while (c := self.rfile.read(1)) not in (b" ", b""):
                        length += c
                    if not length:
                        return
                    receiver.record(self.rfile.read(int(length)).decode(), {"transport": "tcp"})

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.servers = [socketserver.ThreadingUDPServer(("127.0.0.1", self.port), Udp),
                        socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Tcp)]
        for s in self.servers:
            threading.Thread(target=s.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()
        self.servers = []


class TrapReceiver(Receiver):
    """Net-SNMP's snmptrapd in the foreground, logging each trap (numeric OIDs, then END) to a file."""

    name = "snmptrapd"
    BINARY = shutil.which("snmptrapd") or "/usr/sbin/snmptrapd"

    def __init__(self, workdir: Path, v3_user: tuple[str, str, str, str] | None = None) -> None:
        super().__init__()
        self.port = free_port(socket.SOCK_DGRAM)
        self.workdir = workdir
        self.log = workdir / f"snmptrapd-{self.port}.log"
        self.v3_user = v3_user  # (engine id hex, user, auth key, priv key): SHA + AES
        self.proc: subprocess.Popen | None = None

    def start(self) -> TrapReceiver:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / f"snmptrapd-{self.port}.conf"
        lines = ["disableAuthorization yes", "doNotRetainNotificationLogs yes"]
        if self.v3_user:
            engine, user, auth, priv = self.v3_user
            lines.append(f"createUser -e 0x{engine} {user} SHA {auth} AES {priv}")
        conf.write_text("\n".join(lines) + "\n")
        self.log.write_text("")
        cmd = [self.BINARY, "-f", "-C", "-c", str(conf), "-Lf", str(self.log), "-On", "-Ot",
               "-m", "", "-F", "TRAP %v\nEND\n", "--persistentDir=" + str(self.workdir), f"udp:127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: "NET-SNMP version" in self.log.read_text(errors="replace") or self._exited(), 10,
                 f"snmptrapd on udp/{self.port} (log {self.log})")
        assert self.proc.poll() is None, f"snmptrapd exited: {self.log.read_text(errors='replace')}"
        threading.Thread(target=self._tail, daemon=True).start()
        return self

    def _exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def _tail(self) -> None:
        """Stamps each trap when its END line shows up in the log (polled every 5 ms): the arrival time."""
        offset, pending = 0, b""
        while self.proc is not None and self.proc.poll() is None:
            with open(self.log, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            offset += len(chunk)
            pending += chunk
            while b"\nEND\n" in pending:
                record, pending = pending.split(b"\nEND\n", 1)
                start = record.find(b"TRAP ")
                if start >= 0:
                    self.record(record[start:].decode(errors="replace"))
            time.sleep(0.005)

    @staticmethod
    def varbinds(trap: Received) -> dict[str, str]:
        """The trap's `.1.3.6... = TYPE: value` items (tab-separated) as {oid: text}; Hex-STRINGs decoded."""
        out = {}
        for item in trap.body.removeprefix("TRAP ").split("\t"):
            oid, _, value = item.partition(" = ")
            kind, _, value = value.partition(": ")
            if kind == "Hex-STRING":
                value = bytes.fromhex(value.replace("\n", " ")).decode(errors="replace")
            out[oid.strip()] = value.strip().strip('"') if value else ""
        return out

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


# --- for the fixtures of tests/conftest.py (receivers, alert_worker, polling_alert_worker) and bench/alerts.py --------


@dataclass
class Receivers:
    smtp: SmtpReceiver
    http: HttpReceiver
    syslog: SyslogReceiver
    traps: TrapReceiver

    def all(self) -> list[Receiver]:
        return [self.smtp, self.http, self.syslog, self.traps]


def channels_for(r: Receivers, secret: str = "s3cret", warnings: bool = False) -> dict:
    """One channel per kind (syslog twice: UDP and TCP), each routed for every event of every pair; the warnings
    before failures only with `warnings` (a worker's first checkup of the sandbox finds its default sync_binlog,
    and the tests that count status alerts would hear of it whenever it happens to run)."""
    from alerts.models import EVENTS, WARNING_CLEARED, WARNING_RAISED, Channel, Route
    from hapanel.encryption import encrypt

    configs = {
        "email": (Channel.EMAIL, {"recipients": ["ops@example.com"]}),
        "snmp": (Channel.SNMP, {"version": "2c", "host": "127.0.0.1", "port": r.traps.port, "community": "public"}),
        "syslog-udp": (Channel.SYSLOG, {"protocol": "udp", "host": "127.0.0.1", "port": r.syslog.port,
                                        "facility": "local3"}),
        "syslog-tcp": (Channel.SYSLOG, {"protocol": "tcp", "host": "127.0.0.1", "port": r.syslog.port,
                                        "facility": "local3"}),
        "webhook": (Channel.WEBHOOK, {"url": r.http.url, "secret_enc": encrypt(secret)}),  # kept encrypted
    }
    made = {}
    for name, (kind, config) in configs.items():
        made[name] = Channel.objects.create(kind=kind, name=name, config=config)
        Route.objects.bulk_create([Route(event=e, channel=made[name]) for e, _ in EVENTS
                                   if warnings or e not in (WARNING_RAISED, WARNING_CLEARED)])
    return made


def worker_env(r: Receivers) -> dict[str, str]:
    """A worker's environment for alerts: Django's email settings point at the SMTP receiver, short backoff."""
    return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(r.smtp.port), "EMAIL_USE_TLS": "0",
            "HAPANEL_ALERTS_BACKOFF": "0.5"}


def start_worker(r: Receivers, name: str, beat: bool):
    """A real worker whose Django email settings point at the SMTP receiver (set through its environment)."""
    from tests.workers import Worker

    return Worker(name, beat=beat, env=worker_env(r)).start()
