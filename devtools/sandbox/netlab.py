"""The network lab: each sandbox node in a network namespace of its own, joined to the panel by a bridge.

Loopback answers a dead port with a reset in microseconds; a real network does not. Here the primary and
the secondary each run in their own namespace with one veth leg on a bridge in the root namespace, where
the panel lives. Every address is in a private /24 of the lab's own, derived from the sandbox port, and
every name (namespace, veth, bridge) carries the port, so two labs on one machine never meet.

    10.231.N.1   the bridge: the panel's own address on the lab (the test process, the workers)
    10.231.N.2   the primary     (namespace hapanel-<port>-p)
    10.231.N.3   the secondary   (namespace hapanel-<port>-s)

Faults act on network paths, never on processes, and only inside the lab's own namespaces (each has
its own iptables and qdiscs), so nothing of the machine's own firewall is touched:

- host-down NODE: every packet to and from the node dropped, no reset, as a host that lost power;
- panel-cut NODE: only the panel's packets dropped; replication untouched;
- panel-reject NODE: the panel's connections answered with a TCP reset, as a firewall REJECT;
- wan: the replication path loses 1% of its packets each way (iptables `statistic`), and is delayed
  80 ms ± 20 ms each way: by `tc netem` where the kernel has sch_netem, else in user space by a delayer in
  each namespace (wan_delay.py) that the path's packets are queued to (NFQUEUE); the fault says which;
- partition: the nodes cut from each other, and the panel from the secondary (it is on the primary's side);
- partition-secondary-side: the same split with the panel on the secondary's side: the nodes cut from each
  other, and the panel from the primary (a panel deployed at the secondary's site).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.sandbox import process
from devtools.sandbox.process import SandboxError

SUBNET_PREFIX = "10.231"
NET_FAULTS = {
    "host-down": "drop every packet to and from NODE (no reset), as a host that lost power",
    "panel-cut": "drop the panel's packets to and from NODE; replication untouched",
    "panel-reject": "answer the panel's connections to NODE with a TCP reset (firewall REJECT)",
    "wan": "1% loss and 80 ms ± 20 ms delay on the replication path each way (netem, else an NFQUEUE delayer)",
    "partition": "cut the nodes from each other and the panel from the secondary",
    "partition-secondary-side": "cut the nodes from each other and the panel from the primary "
                                "(the panel at the secondary's site)",
}
NODE_FAULTS = ("host-down", "panel-cut", "panel-reject")
WAN_DELAY_MS, WAN_JITTER_MS = 80, 20
WAN_DELAY = ("delay", f"{WAN_DELAY_MS}ms", f"{WAN_JITTER_MS}ms")
WAN_LOSS = "0.01"
WAN_QUEUE = 1  # each namespace has queues of its own: the same number in both never meets
DELAYER = Path(__file__).with_name("wan_delay.py")
ROLES = ("primary", "secondary")


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise SandboxError(f"the network lab needs `{cmd[0]}`: `apt-get install iproute2 iptables`, "
                           "and root") from exc
    if check and done.returncode != 0:
        raise SandboxError(f"`{' '.join(cmd)}` failed: {(done.stderr or done.stdout).strip()} "
                           "(the network lab needs root)")
    return done


@dataclass(frozen=True)
class NetLab:
    """The names and addresses of one lab, all derived from the sandbox's primary port."""

    port: int

    @property
    def octet(self) -> int:
        return self.port % 250 + 1  # 1..250: the third octet of the lab's /24

    @property
    def subnet(self) -> str:
        return f"{SUBNET_PREFIX}.{self.octet}"

    @property
    def panel_ip(self) -> str:
        return f"{self.subnet}.1"

    @property
    def bridge(self) -> str:
        return f"hpbr{self.port}"  # interface names are at most 15 characters

    def ip(self, role: str) -> str:
        return f"{self.subnet}.{2 if role == 'primary' else 3}"

    def netns(self, role: str) -> str:
        return f"hapanel-{self.port}-{role[0]}"

    def veth(self, role: str) -> str:
        return f"hp{self.port}{role[0]}"  # the root leg, on the bridge; the other leg is eth0 in the namespace

    def exec_prefix(self, role: str) -> list[str]:
        """What runs a command inside the node's namespace."""
        return ["ip", "netns", "exec", self.netns(role)]

    def _in(self, role: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run(*self.exec_prefix(role), *cmd, check=check)

    # ---- lifecycle ---------------------------------------------------------------------------
    def create(self) -> None:
        """Bridge, namespaces and veths; whatever an interrupted run left is removed first."""
        self.destroy()
        self._refuse_foreign_subnet()
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{self.panel_ip}/24", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")
        for role in ("primary", "secondary"):
            ns, leg = self.netns(role), self.veth(role)
            _run("ip", "netns", "add", ns)
            _run("ip", "link", "add", leg, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _run("ip", "link", "set", leg, "master", self.bridge)
            _run("ip", "link", "set", leg, "up")
            self._in(role, "ip", "addr", "add", f"{self.ip(role)}/24", "dev", "eth0")
            self._in(role, "ip", "link", "set", "eth0", "up")
            self._in(role, "ip", "link", "set", "lo", "up")
        # The machine may filter bridged traffic with its own FORWARD rules (br_netfilter): let the lab's
        # own subnet through, so only the faults below decide what passes.
        _run("iptables", "-w", "-I", "FORWARD", "-s", f"{self.subnet}.0/24", "-d", f"{self.subnet}.0/24",
             "-j", "ACCEPT", "-m", "comment", "--comment", self.bridge)

    def _refuse_foreign_subnet(self) -> None:
        routes = _run("ip", "-4", "route", "show", f"{self.subnet}.0/24", check=False).stdout.strip()
        if routes:
            raise SandboxError(f"{self.subnet}.0/24 is already routed on this machine ({routes}): choose another "
                               "HAPANEL_SANDBOX_PORT for the network lab")

    def destroy(self) -> list[str]:
        """Removes every namespace, veth, bridge and rule of this lab that exists; never fails."""
        gone = []
        self._stop_delayers()  # a process left in a namespace would keep it alive after `ip netns del`
        for role in ("primary", "secondary"):
            if _run("ip", "link", "show", self.veth(role), check=False).returncode == 0:
                _run("ip", "link", "del", self.veth(role), check=False)  # takes its peer along
                gone.append(self.veth(role))
            if _run("ip", "netns", "pids", self.netns(role), check=False).returncode == 0:
                _run("ip", "netns", "del", self.netns(role), check=False)
                gone.append(self.netns(role))
        if _run("ip", "link", "show", self.bridge, check=False).returncode == 0:
            _run("ip", "link", "del", self.bridge, check=False)
            gone.append(self.bridge)
        rule = ["FORWARD", "-s", f"{self.subnet}.0/24", "-d", f"{self.subnet}.0/24", "-j", "ACCEPT",
                "-m", "comment", "--comment", self.bridge]
        while _run("iptables", "-w", "-D", *rule, check=False).returncode == 0:
            gone.append("FORWARD rule")
        return gone

    def pids(self, role: str) -> list[int]:
        done = _run("ip", "netns", "pids", self.netns(role), check=False)
        return [int(p) for p in done.stdout.split()] if done.returncode == 0 else []

    # ---- faults ------------------------------------------------------------------------------
    def inject(self, name: str, role: str | None = None, logs: Path | None = None, netem: bool = True) -> str:
        """Injects a network fault. For `wan`: `logs` is where a delayer writes its log (the sandbox's folder),
        and netem=False delays by the delayers even where the kernel has netem."""
        if name in NODE_FAULTS:
            if role not in ("primary", "secondary"):
                raise SandboxError(f"{name} needs a node: primary or secondary")
            ip, panel = self.ip(role), self.panel_ip
            if name == "host-down":
                self.drop(role, [])
                return f"the {role} ({ip}) is silent: every packet to and from it is dropped"
            if name == "panel-cut":
                self.drop(role, [panel])
                return f"the panel ({panel}) is cut from the {role} ({ip}): its packets are dropped"
            self._in(role, "iptables", "-w", "-A", "INPUT", "-s", panel, "-p", "tcp", "-j", "REJECT",
                     "--reject-with", "tcp-reset")
            return f"the {role} ({ip}) answers the panel ({panel}) with a TCP reset"
        if name == "wan":
            return self._wan(logs, netem)
        if name == "partition":
            self.drop("secondary", [self.ip("primary"), self.panel_ip])
            return (f"partition: the secondary ({self.ip('secondary')}) is cut from the primary and from the panel; "
                    "the panel still reaches the primary")
        if name == "partition-secondary-side":
            self.drop("primary", [self.ip("secondary"), self.panel_ip])
            return (f"partition: the primary ({self.ip('primary')}) is cut from the secondary and from the panel; "
                    "the panel still reaches the secondary")
        raise SandboxError(f"unknown network fault {name!r}: valid ones are {', '.join(NET_FAULTS)}")

    def drop(self, role: str, peers: list[str]) -> None:
        """DROP inside the node's namespace: to and from `peers`, or every packet but loopback's. Inserted first:
        a packet the WAN's delayer accepts leaves the chain there, and a cut on top of the WAN must still cut."""
        for peer in peers or [None]:
            match_in = ["-s", peer] if peer else ["!", "-i", "lo"]
            match_out = ["-d", peer] if peer else ["!", "-o", "lo"]
            self._in(role, "iptables", "-w", "-I", "INPUT", *match_in, "-j", "DROP")
            self._in(role, "iptables", "-w", "-I", "OUTPUT", *match_out, "-j", "DROP")

    def peer_ip(self, role: str) -> str:
        return self.ip("secondary" if role == "primary" else "primary")

    def _wan(self, logs: Path | None, netem: bool) -> str:
        for role in ROLES:
            self._in(role, "iptables", "-w", "-A", "OUTPUT", "-d", self.peer_ip(role), "-m", "statistic",
                     "--mode", "random", "--probability", WAN_LOSS, "-j", "DROP")
        lost = (f"replication between {self.ip('primary')} and {self.ip('secondary')} loses 1% of its packets "
                f"each way; delayed {WAN_DELAY_MS} ms ± {WAN_JITTER_MS} ms each way")
        if netem and all([self._netem(role) for role in ROLES]):
            return f"{lost} by tc netem"
        for role in ROLES:  # one side's netem alone would add its delay to the delayer's
            self._in(role, "tc", "qdisc", "del", "dev", "eth0", "root", check=False)
        # No sch_netem: the packets to the peer wait in a delayer of the namespace's own. The rule sends them
        # there without --queue-bypass (see wan_delay.py): if the delayer dies, the link is cut, not perfect.
        pids = {role: self._start_delayer(role, logs) for role in ROLES}
        for role in ROLES:
            self._in(role, "iptables", "-w", "-A", "OUTPUT", "-d", self.peer_ip(role), "-j", "NFQUEUE",
                     "--queue-num", str(WAN_QUEUE))
        why = "as this kernel has no sch_netem" if netem else "as asked"
        return (f"{lost} in user space by an NFQUEUE delayer in each namespace (pids "
                f"{', '.join(map(str, pids.values()))}), {why}; a delayer that dies cuts the link")

    def _start_delayer(self, role: str, logs: Path | None) -> int:
        """Starts the role's delayer and waits until it holds its queue; raises with its last words if not."""
        log = (logs or Path("/tmp")) / f"wan-delay-{self.netns(role)}.log"
        log.write_text("")
        pid = process.start([*self.exec_prefix(role), sys.executable, str(DELAYER), "--queue", str(WAN_QUEUE),
                             "--delay-ms", str(WAN_DELAY_MS), "--jitter-ms", str(WAN_JITTER_MS),
                             "--label", self.netns(role)], log)
        deadline = time.monotonic() + 15
        while "holding the packets" not in log.read_text():
            if not process.state_of(pid) or time.monotonic() > deadline:
                process.stop(pid, DELAYER.name, timeout=2)
                said = log.read_text().strip().splitlines() or ["no output"]
                raise SandboxError(f"the WAN delayer of the {role} did not start: {said[-1]} (the lab has no "
                                   "netem; the delayer needs NetfilterQueue: pip install -e '.[dev]')")
            time.sleep(0.02)
        return pid

    def connect_seconds(self, role: str | None, ip: str, port: int, samples: int = 5) -> list[float]:
        """Seconds each of `samples` TCP connects took from the node's namespace (None: the panel's) to ip:port:
        one round trip of the path, as the peer's SYN-ACK must come back."""
        code = ("import socket, time\n"
                f"for _ in range({samples}):\n"
                "    t = time.monotonic()\n"
                f"    socket.create_connection(({ip!r}, {port}), timeout=5).close()\n"
                "    print(time.monotonic() - t)\n")
        prefix = self.exec_prefix(role) if role else []
        return [float(line) for line in _run(*prefix, sys.executable, "-c", code).stdout.split()]

    def delayers(self) -> dict[str, int]:
        """The WAN delayers running in the lab's namespaces, by role."""
        return {role: pid for role in ROLES for pid in self.pids(role) if process.is_ours(pid, DELAYER.name)}

    def _stop_delayers(self) -> None:
        for pid in self.delayers().values():
            process.stop(pid, DELAYER.name, timeout=5)

    def _netem(self, role: str) -> bool:
        """Delays the packets to the peer only, so the panel's path keeps its speed; False when the kernel
        has no netem (or no htb) to do it with."""
        dev, peer = ("dev", "eth0"), self.peer_ip(role)
        steps = [
            ("qdisc", "add", *dev, "root", "handle", "1:", "htb", "default", "10"),
            ("class", "add", *dev, "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit"),
            ("class", "add", *dev, "parent", "1:", "classid", "1:20", "htb", "rate", "10gbit"),
            ("qdisc", "add", *dev, "parent", "1:20", "handle", "20:", "netem", *WAN_DELAY),
            ("filter", "add", *dev, "parent", "1:", "protocol", "ip", "u32", "match", "ip", "dst", f"{peer}/32",
             "flowid", "1:20"),
        ]
        for step in steps:
            if self._in(role, "tc", *step, check=False).returncode != 0:
                self._in(role, "tc", "qdisc", "del", *dev, "root", check=False)
                return False
        return True

    def heal(self) -> None:
        """Every fault undone: the namespaces' own rules flushed and their qdiscs removed."""
        for role in ("primary", "secondary"):
            if _run("ip", "netns", "pids", self.netns(role), check=False).returncode != 0:
                continue
            self._in(role, "iptables", "-w", "-F", "INPUT", check=False)
            self._in(role, "iptables", "-w", "-F", "OUTPUT", check=False)
            self._in(role, "tc", "qdisc", "del", "dev", "eth0", "root", check=False)
        self._stop_delayers()  # after the rules are gone: nothing is queued to a delayer that is stopping
