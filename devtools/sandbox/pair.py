"""The sandbox pair: two `mariadbd` on loopback, bidirectional GTID replication over verified TLS.

Each node listens on 127.0.0.1 for the monitor and on a second loopback address that only
replication uses (127.0.0.2 for the primary, 127.0.0.3 for the secondary), so a link cut can be
injected with iptables while the monitor still reaches both nodes, as a WAN cut would.

With `hosts=True` (the network lab, `netlab.py`) each node runs in a network namespace of its own
instead, with one address on a bridge that the panel, replication and the network faults all use.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymysql

from devtools.sandbox import certs, process, server_config
from devtools.sandbox.netlab import NetLab
from devtools.sandbox.process import SandboxError
from devtools.sandbox.server_config import EMERGENCY_USER, MONITOR_USER, NodeSpec, ServerOptions

# The account names are read from here by the tools that point other code at the sandbox's servers.
__all__ = ["EMERGENCY_USER", "MONITOR_USER", "NodeSpec", "SandboxError", "SandboxPair"]


class SandboxPair:
    def __init__(self, folder: Path, port: int = 3407, tuned: bool = True, replicate: bool = True,
                 hosts: bool = False) -> None:
        self.folder = Path(folder).resolve()
        self.tuned = tuned
        # replicate=False: bare nodes (no replication options, accounts or CHANGE MASTER), with the
        # certificates written to pki/, for tests that set replication up themselves.
        self.replicate = replicate
        self.pki = self.folder / "pki"
        self.state_file = self.folder / "state.json"
        self.state: dict = self._load_state()
        if self.state:  # a running pair keeps the mode it was started in, whatever this caller asked
            self.tuned = self.state.get("tuned", tuned)
            hosts = self.state.get("hosts", False)
        self.hosts = hosts
        self.lab = NetLab(port)
        if hosts:
            self.primary = NodeSpec("primary", 1, port, self.lab.ip("primary"), self.folder / "primary",
                                    self.lab.ip("primary"))
            self.secondary = NodeSpec("secondary", 2, port + 1, self.lab.ip("secondary"),
                                      self.folder / "secondary", self.lab.ip("secondary"))
        else:
            self.primary = NodeSpec("primary", 1, port, "127.0.0.2", self.folder / "primary")
            self.secondary = NodeSpec("secondary", 2, port + 1, "127.0.0.3", self.folder / "secondary")

    @property
    def client_hosts(self) -> str:
        """The host part of the servers' accounts: where the panel and the peer connect from."""
        return f"{self.lab.subnet}.%" if self.hosts else "127.%"

    # ---- state -------------------------------------------------------------------------------
    def _load_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _save_state(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=2))
        self.state_file.chmod(0o600)

    def nodes(self) -> tuple[NodeSpec, NodeSpec]:
        return self.primary, self.secondary

    def node(self, role: str) -> NodeSpec:
        return self.primary if role == "primary" else self.secondary

    def peer(self, spec: NodeSpec) -> NodeSpec:
        return self.secondary if spec is self.primary else self.primary

    def pid(self, role: str) -> int | None:
        return self.state.get("pids", {}).get(role)

    def running(self, role: str) -> bool:
        pid = self.pid(role)
        return bool(pid) and bool(process.state_of(pid)) and process.is_ours(pid, str(self.node(role).cnf))

    @property
    def monitor_password(self) -> str:
        return self.state["monitor_password"]

    @property
    def emergency_password(self) -> str:
        return self.state.get("emergency_password", "")

    @property
    def ca_file(self) -> Path:
        return self.pki / "ca.pem"

    @property
    def faults(self) -> list[dict]:
        return self.state.setdefault("faults", [])

    # ---- connections -------------------------------------------------------------------------
    def admin(self, role: str, timeout: float = 5.0) -> pymysql.Connection:
        """A root connection over the node's unix socket (never used by the monitor)."""
        return pymysql.connect(
            unix_socket=str(self.node(role).socket), user="root", password="", autocommit=True,
            connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout,
            cursorclass=pymysql.cursors.DictCursor,
        )

    def sql(self, role: str, *statements: str, timeout: float = 5.0) -> list[dict]:
        conn = self.admin(role, timeout)
        try:
            rows: list[dict] = []
            with conn.cursor() as cur:
                for stmt in statements:
                    cur.execute(stmt)
                    rows = list(cur.fetchall())
            return rows
        finally:
            conn.close()

    def replica_status(self, role: str) -> dict:
        rows = self.sql(role, "SHOW ALL SLAVES STATUS")
        return rows[0] if rows else {}

    # ---- lifecycle ---------------------------------------------------------------------------
    def up(self) -> str:
        if self.state:
            return self._report_existing()
        started = time.monotonic()
        self._preflight()
        from devtools.sandbox.faults import clear_link_rules

        clear_link_rules(self)  # a cut left behind by a run that was killed would break the new pair
        if self.hosts:
            self.lab.create()  # removes what an interrupted lab left, then builds bridge and namespaces
        try:
            self._create()
        except BaseException:
            self._kill_all()
            if self.hosts:
                self.lab.destroy()
            raise
        elapsed = time.monotonic() - started
        self.state["up_seconds"] = round(elapsed, 2)
        self._save_state()
        return f"sandbox pair up in {elapsed:.1f} s: " + self._addresses()

    def _addresses(self) -> str:
        p, s = self.nodes()
        if self.hosts:
            return f"network lab: primary {p.monitor_ip}:{p.port} (namespace {self.lab.netns('primary')}), " \
                   f"secondary {s.monitor_ip}:{s.port} (namespace {self.lab.netns('secondary')}), panel " \
                   f"{self.lab.panel_ip} on bridge {self.lab.bridge}, {'tuned' if self.tuned else 'untuned'}"
        return f"primary 127.0.0.1:{p.port} (replication {p.repl_ip}), secondary 127.0.0.1:{s.port} " \
               f"(replication {s.repl_ip}), {'tuned' if self.tuned else 'untuned'}"

    def _report_existing(self) -> str:
        alive = {role: self.running(role) for role in ("primary", "secondary")}
        if all(alive.values()) or self.faults:
            faults = ", ".join(f["name"] for f in self.faults)
            return "sandbox pair already running: " + self._addresses() + (
                f"; faults injected: {faults} (run `sandbox heal`)" if faults else "")
        desc = ", ".join(f"{r} {'running' if a else 'not running'}" for r, a in alive.items())
        raise SandboxError(
            f"a previous sandbox in {self.folder} is half-started ({desc}): run `manage.py sandbox down` first"
        )

    def _preflight(self) -> None:
        self.mariadbd = process.find_binary("mariadbd")
        self.install_db = process.find_binary("mariadb-install-db")
        self.user, self.uid, self.gid = process.run_as()
        if self.hosts:
            self._kill_lab_leftovers()
        for spec in self.nodes() if not self.hosts else ():  # a fresh namespace has every port free
            for ip in ("127.0.0.1", spec.repl_ip):
                if process.port_in_use(ip, spec.port):
                    raise SandboxError(
                        f"port {spec.port} on {ip} is in use (another MySQL server or sandbox?): "
                        f"stop it or set HAPANEL_SANDBOX_PORT to a free port"
                    )
        if self.folder.exists():
            owner = self.folder.stat().st_uid
            if owner not in (os.getuid(), self.uid):
                raise SandboxError(
                    f"{self.folder} belongs to uid {owner}, not to this user: remove it or "
                    f"`chown -R {os.getuid()} {self.folder}`"
                )
            leftovers = [p for p in self.folder.glob("*/mysqld.pid") if p.exists()]
            for pidfile in leftovers:
                pid = int(pidfile.read_text().strip() or 0)
                if pid and process.state_of(pid) and process.is_ours(pid, str(pidfile.parent / "my.cnf")):
                    raise SandboxError(
                        f"a mariadbd (pid {pid}) from a previous sandbox still runs in {pidfile.parent} "
                        "without a state file: run `manage.py sandbox down` first"
                    )
            shutil.rmtree(self.folder)  # leftovers of a failed start, nothing runs there

    def _kill_lab_leftovers(self) -> None:
        """A mariadbd of ours still running in a namespace of an interrupted lab holds its data open."""
        for spec in self.nodes():
            for pid in self.lab.pids(spec.role):
                if process.is_ours(pid, str(spec.cnf)):
                    process.stop(pid, str(spec.cnf))

    def _create(self) -> None:
        self.folder.mkdir(parents=True)
        self.state = {
            "tuned": self.tuned,
            "hosts": self.hosts,
            "monitor_password": secrets.token_urlsafe(18),
            "repl_password": secrets.token_urlsafe(18),
            "emergency_password": secrets.token_urlsafe(18),
            "pids": {},
            "faults": [],
        }
        self._save_state()  # written first, so `down` can clean up a start that fails half-way
        lab_ips = [self.lab.ip("primary"), self.lab.ip("secondary")] if self.hosts else []
        certs.write_pki(self.pki, ["127.0.0.1", "127.0.0.2", "127.0.0.3", *lab_ips], ["localhost"])
        for spec in self.nodes():
            (spec.folder / "data").mkdir(parents=True)
            (spec.folder / "tmp").mkdir()
            spec.cnf.write_text(self._cnf(spec))
        process.chown_tree(self.folder, self.uid, self.gid)
        self._install_db()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(self._start_node, self.nodes()))
        if not self.replicate:
            return
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(self._bootstrap_node, self.nodes()))
        for spec in self.nodes():
            self._change_master(spec)
        self.wait_replicating(timeout=20)

    def _cnf(self, spec: NodeSpec) -> str:
        opts = ServerOptions(self.user, self.hosts, self.replicate, self.tuned, self.pki)
        return server_config.cnf(spec, opts)

    def _install_db(self) -> None:
        procs = []
        for spec in self.nodes():
            cmd = [self.install_db, f"--defaults-file={spec.cnf}", "--skip-test-db",
                   "--auth-root-authentication-method=normal"]
            if self.user:
                cmd.append(f"--user={self.user}")
            log = open(spec.folder / "install.log", "wb")  # noqa: SIM115 (closed below)
            procs.append((spec, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log))
        for spec, proc, log in procs:
            rc = proc.wait(timeout=120)
            log.close()
            if rc != 0:
                raise SandboxError(f"mariadb-install-db failed for the {spec.role}: {self._last_error(spec)}")

    def _start_node(self, spec: NodeSpec, options: tuple[str, ...] = ()) -> None:
        # `ip netns exec` execs mariadbd in place: the pid started is the server's own.
        prefix = self.lab.exec_prefix(spec.role) if self.hosts else []
        pid = process.start([*prefix, self.mariadbd_path(), f"--defaults-file={spec.cnf}", *options],
                            spec.folder / "stdout.log")
        self.state["pids"][spec.role] = pid
        self._save_state()
        self._wait_answering(spec, pid)

    def mariadbd_path(self) -> str:
        return getattr(self, "mariadbd", None) or process.find_binary("mariadbd")

    def _wait_answering(self, spec: NodeSpec, pid: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.state_of(pid):
                raise SandboxError(f"mariadbd for the {spec.role} exited at start: {self._last_error(spec)}")
            try:
                self.admin(spec.role, timeout=1).close()
                return
            except pymysql.err.MySQLError:
                time.sleep(0.03)
        raise SandboxError(f"the {spec.role} did not answer within {timeout:.0f} s: {self._last_error(spec)}")

    def _last_error(self, spec: NodeSpec) -> str:
        try:
            lines = spec.error_log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "no error log"
        errors = [line for line in lines if "[ERROR]" in line]
        return (errors or lines or ["empty error log"])[-1].strip()

    def _bootstrap_node(self, spec: NodeSpec) -> None:
        self.sql(spec.role, *server_config.bootstrap_statements(self.state, self.client_hosts))

    def change_master_sql(self, spec: NodeSpec) -> str:
        return server_config.change_master(self.peer(spec), self.state["repl_password"], self.ca_file, self.tuned)

    def _change_master(self, spec: NodeSpec) -> None:
        self.sql(spec.role, self.change_master_sql(spec), "START SLAVE")

    def wait_replicating(self, timeout: float = 20.0) -> None:
        """Until both replicas say IO Yes and SQL Yes; raises with what was last seen."""
        deadline = time.monotonic() + timeout
        seen: dict = {}
        while time.monotonic() < deadline:
            try:
                seen = {spec.role: self.replica_status(spec.role) for spec in self.nodes()}
            except pymysql.err.MySQLError as exc:
                seen = {"error": str(exc)}
            if all(
                row.get("Slave_IO_Running") == "Yes" and row.get("Slave_SQL_Running") == "Yes"
                for row in seen.values() if isinstance(row, dict)
            ) and "error" not in seen:
                return
            time.sleep(0.05)
        summary = "; ".join(
            f"{role}: IO {row.get('Slave_IO_Running')} SQL {row.get('Slave_SQL_Running')} "
            f"{row.get('Last_IO_Error') or row.get('Last_SQL_Error') or ''}".strip()
            for role, row in seen.items() if isinstance(row, dict)
        )
        raise SandboxError(f"replication did not come up within {timeout:.0f} s: {summary or seen}")

    def down(self) -> str:
        if not self.folder.exists():
            return "no sandbox pair here: nothing to stop"
        from devtools.sandbox.faults import clear_link_rules

        clear_link_rules(self)
        stopped = self._kill_all()
        if self.hosts:
            self.lab.heal()
            self.lab.destroy()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.state = {}
        return f"sandbox pair down (stopped pids: {', '.join(map(str, stopped)) or 'none'}); data removed"

    def _kill_all(self) -> list[int]:
        stopped = []
        for spec in self.nodes():
            pid = self.pid(spec.role)
            pidfile = spec.folder / "mysqld.pid"
            if not pid and pidfile.exists():
                pid = int(pidfile.read_text().strip() or 0)
            if pid and process.state_of(pid) and process.is_ours(pid, str(spec.cnf)):
                process.stop(pid, str(spec.cnf))
                stopped.append(pid)
        return stopped

    def stop_node(self, role: str) -> None:
        """Stops a node's server gracefully, as `systemctl stop` would; `start_node` starts it again."""
        pid = self.pid(role)
        if pid:
            process.stop(pid, str(self.node(role).cnf))

    def start_node(self, role: str, *options: str) -> None:
        """Starts a node that is not running (after a crash or a stop) on its existing data; `options` are extra
        server options for this start only (as MYSQLD_OPTS gives them to a systemd unit)."""
        spec = self.node(role)
        self.mariadbd = self.mariadbd_path()
        self._start_node(spec, options)

    def status(self) -> list[dict]:
        out = []
        for spec in self.nodes():
            pid = self.pid(spec.role)
            state = process.state_of(pid) if pid else ""
            row: dict = {
                "role": spec.role,
                "address": f"{spec.monitor_ip}:{spec.port}",
                "replication_address": f"{spec.repl_ip}:{spec.port}",
                "pid": pid,
                "process": {"": "not running", "T": "stopped (SIGSTOP)"}.get(state, "running"),
            }
            if state and state != "T":
                try:
                    rs = self.replica_status(spec.role)
                    row.update(
                        io=rs.get("Slave_IO_Running"), sql=rs.get("Slave_SQL_Running"),
                        source=f"{rs.get('Master_Host')}:{rs.get('Master_Port')}",
                        last_io_errno=rs.get("Last_IO_Errno"), last_sql_errno=rs.get("Last_SQL_Errno"),
                        ssl_verified=rs.get("Master_SSL_Verify_Server_Cert"),
                    )
                except pymysql.err.MySQLError as exc:
                    row["error"] = str(exc)
            out.append(row)
        return out

    def fault(self, name: str, **options: str) -> str:
        from devtools.sandbox.faults import inject

        return inject(self, name, **options)

    def heal(self) -> str:
        from devtools.sandbox.faults import heal

        return heal(self)
