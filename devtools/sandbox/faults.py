"""The sandbox's fire drills: each fault is injected for real and `heal` undoes all of them."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from typing import TYPE_CHECKING

from devtools.sandbox import process
from devtools.sandbox.netlab import NET_FAULTS, NODE_FAULTS
from devtools.sandbox.process import SandboxError

if TYPE_CHECKING:
    from devtools.sandbox.pair import SandboxPair

FAULTS = {
    "crash-primary": "kill -9 the primary's mariadbd",
    "stop-primary": "stop the primary gracefully (SIGTERM, waits for shutdown)",
    "hang-primary": "freeze the primary with SIGSTOP (TCP still accepts, nothing answers)",
    "cut-link": "silently drop replication traffic with iptables (--direction both|to-secondary|to-primary)",
    "break-replication": "make the secondary's SQL thread stop on a duplicate key (error 1062)",
    "stop-io": "STOP SLAVE IO_THREAD on the secondary, as an operator would",
}
# Only in the network lab (`sandbox up --hosts`): faults of network paths, see netlab.py.
LAB_FAULTS = {name: f"{text} (network lab only)" for name, text in NET_FAULTS.items()}
DIRECTIONS = ("both", "to-secondary", "to-primary")
ROLES = ("primary", "secondary")


def _chain(pair: SandboxPair) -> str:
    return f"HAPANEL_SB_{pair.primary.port}"


def _iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["iptables", "-w", *args], capture_output=True, text=True, check=check)
    except FileNotFoundError as exc:
        raise SandboxError("cut-link needs iptables: `apt-get install iptables`, and root") from exc
    except subprocess.CalledProcessError as exc:
        raise SandboxError(f"iptables {' '.join(args)} failed: {exc.stderr.strip()} (cut-link needs root)") from exc


def clear_link_rules(pair: SandboxPair) -> None:
    if os.geteuid() != 0:
        return
    chain = _chain(pair)
    try:
        while _iptables("-D", "INPUT", "-j", chain, check=False).returncode == 0:
            pass
        _iptables("-F", chain, check=False)
        _iptables("-X", chain, check=False)
    except SandboxError:
        pass  # no iptables: there is nothing to clear


def _cut(pair: SandboxPair, direction: str) -> str:
    if direction not in DIRECTIONS:
        raise SandboxError(f"unknown direction {direction!r}: use one of {', '.join(DIRECTIONS)}")
    chain = _chain(pair)
    if _iptables("-L", chain, "-n", check=False).returncode != 0:
        _iptables("-N", chain)
        _iptables("-I", "INPUT", "-j", chain)
    # A replica's IO thread connects to its source's replication address; dropping both ways of
    # that one address:port is a silent cut (no RST), and the monitor's 127.0.0.1 stays reachable.
    sources = {"to-secondary": [pair.primary], "to-primary": [pair.secondary]}.get(
        direction, [pair.primary, pair.secondary]
    )
    for src in sources:
        _iptables("-A", chain, "-p", "tcp", "-d", src.repl_ip, "--dport", str(src.port), "-j", "DROP")
        _iptables("-A", chain, "-p", "tcp", "-s", src.repl_ip, "--sport", str(src.port), "-j", "DROP")
    return f"replication link cut ({direction}): dropping traffic to " + ", ".join(
        f"{s.repl_ip}:{s.port}" for s in sources
    )


def inject(pair: SandboxPair, name: str, direction: str = "both", node: str = "primary") -> str:
    if name not in FAULTS and name not in LAB_FAULTS:
        raise SandboxError(f"unknown fault {name!r}: valid faults are {', '.join([*FAULTS, *LAB_FAULTS])}")
    if not pair.state:
        raise SandboxError("no sandbox pair is running: run `manage.py sandbox up` first")
    if name in LAB_FAULTS and not pair.hosts:
        raise SandboxError(f"{name} acts on the network lab: start the pair with `manage.py sandbox up --hosts`")
    if node not in ROLES:
        raise SandboxError(f"unknown node {node!r}: use primary or secondary")
    pid = pair.pid("primary")
    record: dict = {"name": name, "at": time.time()}
    if name in LAB_FAULTS:
        did = pair.lab.inject(name, node if name in NODE_FAULTS else None, logs=pair.folder)
        if name in NODE_FAULTS:
            record["node"] = node
        if delayers := pair.lab.delayers():
            record["delayers"] = delayers  # stopped by heal and down, which find them in the namespaces
    elif name == "cut-link" and pair.hosts:
        # In the lab replication has no address of its own: drop the nodes' packets to each other only.
        if direction != "both":
            raise SandboxError("in the network lab cut-link cuts both directions: omit --direction")
        pair.lab.drop("secondary", [pair.lab.ip("primary")])
        did = "replication link cut: the nodes' packets to each other are dropped"
        record["direction"] = direction
    elif name in ("crash-primary", "stop-primary", "hang-primary"):
        if not pair.running("primary"):
            raise SandboxError("the primary is not running: run `manage.py sandbox heal` first")
        if name == "crash-primary":
            os.kill(pid, signal.SIGKILL)
            process.wait_gone(pid, 10)
            did = f"killed the primary (pid {pid}) with SIGKILL"
        elif name == "stop-primary":
            os.kill(pid, signal.SIGTERM)
            if not process.wait_gone(pid, 30):
                raise SandboxError(f"the primary (pid {pid}) did not shut down within 30 s")
            did = f"stopped the primary (pid {pid}) with SIGTERM; it shut down cleanly"
        else:
            os.kill(pid, signal.SIGSTOP)
            did = f"froze the primary (pid {pid}) with SIGSTOP"
    elif name == "cut-link":
        did = _cut(pair, direction)
        record["direction"] = direction
    elif name == "break-replication":
        key = random.randint(10_000_000, 99_999_999)
        pair.sql("secondary", "SET sql_log_bin = 0",
                 f"INSERT INTO hapanel_sandbox.drill VALUES ({key}, 'conflict', 'secondary')")
        pair.sql("primary", f"INSERT INTO hapanel_sandbox.drill VALUES ({key}, 'duplicate', 'primary')")
        record["key"] = key
        did = f"inserted id {key} on the secondary only, then on the primary: the secondary stops on 1062"
    else:  # stop-io
        pair.sql("secondary", "STOP SLAVE IO_THREAD")
        did = "ran STOP SLAVE IO_THREAD on the secondary"
    pair.faults.append(record)
    pair._save_state()
    return did


def heal(pair: SandboxPair, timeout: float | None = None) -> str:
    """Undoes every injected fault and waits until both directions replicate again."""
    if not pair.state:
        raise SandboxError("no sandbox pair is running: run `manage.py sandbox up` first")
    did = []
    clear_link_rules(pair)
    if pair.hosts:
        pair.lab.heal()
    for spec in pair.nodes():
        pid = pair.pid(spec.role)
        state = process.state_of(pid) if pid else ""
        if state == "T":
            os.kill(pid, signal.SIGCONT)
            did.append(f"resumed the {spec.role} (SIGCONT)")
        elif not state:
            pair.start_node(spec.role)
            did.append(f"restarted the {spec.role} (pid {pair.pid(spec.role)})")
    for record in pair.faults:
        if record["name"] == "break-replication":
            # Remove the conflicting row the fault planted, so the failed event applies cleanly.
            pair.sql("secondary", "SET sql_log_bin = 0",
                     f"DELETE FROM hapanel_sandbox.drill WHERE id = {int(record['key'])}")
            did.append("removed the conflicting row on the secondary")
        if record["name"] == "cut-link" or record["name"] in LAB_FAULTS:
            stopped = ", ".join(map(str, record.get("delayers", {}).values()))
            did.append(f"undid {record['name']} (iptables rules, netem"
                       f"{', WAN delayers ' + stopped if stopped else ''})")
    for spec in pair.nodes():
        pair.sql(spec.role, "START SLAVE")
    pair.faults.clear()
    pair._save_state()
    # An untuned replica reconnects only after MASTER_CONNECT_RETRY (60 s): wait for it, do not force it.
    pair.wait_replicating(timeout=timeout or (30 if pair.tuned else 90))
    return "; ".join(did + ["both directions replicate again"])
