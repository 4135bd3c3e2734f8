"""Switchover and recovery of a pair as checklists, for its flavour, version and topology. Pure.

Three procedures share one cast: the node that becomes (or became) the primary, `promoted`, and the node that
gives the role up, `demoted`. They are fixed when the procedure is opened, by address, so the steps read the same
before and after the panel swaps the pair's roles.

- `switchover`: planned, both nodes up: the primary turns read-only, the secondary applies everything it sent,
  becomes writable and takes the primary's role; the old primary replicates from it.
- `failover`: the primary is lost: confirm it, fence it, let the secondary apply what it received, make it
  writable, point the applications at it, swap the roles in the panel.
- `rejoin`: the lost primary is back: keep it read-only, make sure it holds nothing the new primary lacks (else
  the rebuild), and let it replicate from the new primary.

Each step names its check (`judge_switchover.CHECKS`); the panel runs none of the commands.
"""

from __future__ import annotations

from dataclasses import dataclass

from pairs import setup_sql
from pairs.repair.procedure import SHELL, SQL, Block, Procedure, Step
from pairs.setup_sql import MARIADB, Passwords, Server, SetupInput

SWITCHOVER, FAILOVER, REJOIN = "switchover", "failover", "rejoin"
KINDS = {SWITCHOVER: "Planned switchover", FAILOVER: "Failover: the primary is lost",
         REJOIN: "Rejoin the old primary as the secondary"}
PROMOTED, DEMOTED = "promoted", "demoted"
REPL_PASSWORD = "<password of hapanel_repl>"
POSITION = "<the position read on the old primary>"


@dataclass(frozen=True)
class SwitchInput:
    setup: SetupInput  # the pair as it was when the procedure was opened: its primary and secondary then
    version: tuple[int, ...]
    kind: str = SWITCHOVER
    service: str = ""  # the systemd unit; the flavour's own when empty

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown procedure {self.kind!r}")

    @property
    def promoted(self) -> Server:
        """A rejoin is opened once the roles are swapped: the primary then is the promoted node."""
        return self.setup.primary if self.kind == REJOIN else self.setup.secondary

    @property
    def demoted(self) -> Server:
        return self.setup.secondary if self.kind == REJOIN else self.setup.primary

    @property
    def mysql(self) -> bool:
        return self.setup.flavour != MARIADB

    @property
    def both_ways(self) -> bool:
        return self.setup.topology == "bidirectional"


# ---- the words of each flavour and version ---------------------------------------------------------------------


def _replica_word(s: SwitchInput) -> str:
    """MySQL 8.0.22 renamed SLAVE to REPLICA; MariaDB keeps SLAVE."""
    return "REPLICA" if s.mysql and tuple(s.version[:3]) >= (8, 0, 22) else "SLAVE"


def stop_replica(s: SwitchInput, io_only: bool = False) -> str:
    return f"STOP {_replica_word(s)}" + (" IO_THREAD" if io_only else "")


def start_replica(s: SwitchInput) -> str:
    return f"START {_replica_word(s)}"


def status_statement(s: SwitchInput) -> str:
    return f"SHOW {_replica_word(s)} STATUS"


def read_only_on(s: SwitchInput) -> list[str]:
    # super_read_only keeps out accounts with SUPER (CONNECTION_ADMIN) too, and implies read_only.
    return ["SET GLOBAL super_read_only = ON"] if s.mysql else ["SET GLOBAL read_only = ON"]


def writable(s: SwitchInput) -> list[str]:
    # super_read_only first: read_only = OFF while super_read_only = ON is refused.
    return (["SET GLOBAL super_read_only = OFF", "SET GLOBAL read_only = OFF"] if s.mysql
            else ["SET GLOBAL read_only = OFF"])


def _positions(s: SwitchInput) -> tuple[str, str]:
    """(what a node has written or applied, how a replica waits for a position), read-only both."""
    if s.mysql:
        return "SELECT @@GLOBAL.gtid_executed", f"SELECT WAIT_FOR_EXECUTED_GTID_SET('{POSITION}', 60)"
    return "SELECT @@GLOBAL.gtid_binlog_pos", f"SELECT MASTER_GTID_WAIT('{POSITION}', 60)"


def _service(s: SwitchInput) -> str:
    return s.service or ("mysql" if s.mysql else "mariadb")


def change_source(s: SwitchInput) -> list[str]:
    """The demoted node's CHANGE ... TO the promoted one, with the pair's replication account, and its start."""
    demoted = s.demoted
    # setup_sql names the source the replica's peer by role: the demoted node's peer is the promoted one.
    statements = setup_sql.replication(s.setup, demoted, Passwords(REPL_PASSWORD, "", "", "", ""))
    if s.mysql and tuple(s.version[:3]) < (8, 0, 23):
        statements = [x.replace("CHANGE REPLICATION SOURCE TO", "CHANGE MASTER TO").replace("SOURCE_", "MASTER_")
                      .replace("START REPLICA", "START SLAVE") for x in statements]
    return statements


def _name(s: SwitchInput, who: str) -> str:
    node = s.promoted if who == PROMOTED else s.demoted
    before = "old primary" if who == DEMOTED else ("new primary" if s.kind == REJOIN else "secondary")
    return f"the {before} ({setup_sql.address(node)})"


def _block(s: SwitchInput, who: str, kind: str, lines: list[str]) -> Block:
    node = s.promoted if who == PROMOTED else s.demoted
    where = (f"On {_name(s, who)}, as an administrator" if kind == SQL
             else f"On {_name(s, who).replace(' (', ' host (', 1).replace(f':{node.port})', ')')}, as root")
    text = "".join(f"{line};\n" if kind == SQL and not line.startswith("--") else f"{line}\n" for line in lines)
    return Block(host=who, kind=kind, where=where, text=text)


# ---- the steps -------------------------------------------------------------------------------------------------


def _demoted_read_only(s: SwitchInput, came_back: bool) -> Step:
    lines = read_only_on(s) + [f"-- and in its server options, so that a restart keeps it: "
                               f"{'super_read_only' if s.mysql else 'read_only'} = ON"]
    if came_back:
        does = (f"{_name(s, DEMOTED).capitalize()} answers again: it must take no write before it replicates from "
                "the new primary. Better still, start it with the option already set.")
    else:
        does = (f"{_name(s, DEMOTED).capitalize()} stops taking writes; what it already took reaches the "
                "secondary in the next step. No FLUSH TABLES WITH READ LOCK is needed."
                + (" super_read_only keeps out administrators too." if s.mysql else ""))
    return Step("read-only", f"Make {_name(s, DEMOTED)} read-only", does, (_block(s, DEMOTED, SQL, lines),),
                "demoted-read-only",
                f"{_name(s, DEMOTED)} answers with read_only = 1" + (" and super_read_only = 1" if s.mysql else "")
                + "; the monitor's heartbeat stops there too (it is no administrator)")


def _caught_up(s: SwitchInput) -> Step:
    position, wait = _positions(s)
    return Step(
        "caught-up", f"Wait until {_name(s, PROMOTED)} has applied everything",
        "Read the old primary's position, then wait on the secondary until it has applied it (0 when it has, -1 "
        "after 60 s: look at its replica status).",
        (_block(s, DEMOTED, SQL, ["-- only look", position]), _block(s, PROMOTED, SQL, ["-- only wait", wait])),
        "promoted-caught-up",
        f"{_name(s, PROMOTED)} has applied the old primary's whole GTID position, read while it is read-only",
    )


def _confirm_down(s: SwitchInput) -> Step:
    return Step(
        "confirm-down", f"Confirm that {_name(s, DEMOTED)} is down",
        "A primary is down when its replica says so, not when only the panel cannot reach it: look at the "
        "secondary's replica status (its IO thread no longer Yes, its last error naming the primary).",
        (_block(s, PROMOTED, SQL, ["-- only look", status_statement(s)]),),
        "demoted-down",
        "the panel's current cause, and the secondary's own IO thread from the primary: the primary does not "
        "answer the panel and the secondary does not reach it either",
    )


def _fence(s: SwitchInput) -> Step:
    node = s.demoted
    lines = [f"systemctl stop {_service(s)}", f"systemctl disable {_service(s)}   # it must not start by itself",
             f"# if its host cannot be reached: block its port where the applications pass, e.g. "
             f"iptables -I INPUT -p tcp --dport {node.port} -j REJECT",
             f"# if it comes back anyway: {'super_read_only' if s.mysql else 'read_only'} = ON in its server options "
             "before it starts"]
    return Step(
        "fence", f"Fence {_name(s, DEMOTED)}",
        "It must not come back as a writer beside the new primary: stop and disable its service, or cut it off "
        "from the applications, and keep it read-only if it returns.",
        (_block(s, DEMOTED, SHELL, lines),),
        "demoted-fenced",
        f"{_name(s, DEMOTED)} does not answer the panel, or answers read-only",
    )


def _stop_replication(s: SwitchInput, lost: bool) -> Step:
    status = status_statement(s)
    lines = ([stop_replica(s, io_only=True),
              f"-- wait until {status} shows Exec_Master_Log_Pos = Read_Master_Log_Pos (the relay log applied)"
              .replace("Master", "Source" if _replica_word(s) == "REPLICA" else "Master"),
              stop_replica(s)] if lost else [stop_replica(s)])
    if not s.both_ways:
        lines.append(f"RESET {_replica_word(s)} ALL")
    why = ("What it received from the old primary is applied before it stops for good" if lost
           else "It has applied everything; it stops replicating from the read-only old primary")
    if s.both_ways:
        why += "; its channel is kept, so that it replicates from the old primary again once that one rejoins"
    else:
        why += f"; RESET {_replica_word(s)} ALL forgets the old primary, so that a restart does not reconnect to it"
    return Step("stop-replication", f"Stop replication on {_name(s, PROMOTED)}", why + ".",
                (_block(s, PROMOTED, SQL, lines),), "promoted-stopped",
                f"{_name(s, PROMOTED)}'s replica threads are stopped and its SQL thread had applied all it read "
                "(executed position = read position)")


def _writable(s: SwitchInput) -> Step:
    return Step("writable", f"Make {_name(s, PROMOTED)} writable",
                "It takes the writes from now on.", (_block(s, PROMOTED, SQL, writable(s)),), "promoted-writable",
                f"{_name(s, PROMOTED)} answers with read_only = 0" + (" and super_read_only = 0" if s.mysql else ""))


def _applications(s: SwitchInput) -> Step:
    node = s.promoted
    return Step(
        "point-applications", "Point the applications at the new primary",
        f"Change where the vault's applications write: their database address (DNS name, proxy or settings) to "
        f"{node.host}:{node.port}. Only you can tell when that is done: mark it done.",
        (), "applications-pointed",
        "nothing the panel can see: the step is done once an admin marks it done; the check adds that only the "
        "new primary takes writes")


def _swap(s: SwitchInput) -> Step:
    return Step(
        "swap-roles", "Swap the pair's roles in the panel",
        f"Press Swap roles: the panel records {_name(s, PROMOTED)} as the pair's primary. The heartbeat, the "
        "emergency page and its audit follow the new primary; the history is kept, and the alert channels hear "
        "of it (roles changed). This changes the panel only, no server.",
        (), "roles-swapped", f"the panel records {_name(s, PROMOTED)} as the pair's primary", panel_action=True)


def _point_back(s: SwitchInput) -> Step:
    if s.both_ways:
        lines = ["-- it replicates from the new primary already: both nodes of a bidirectional pair take writes",
                 *writable(s)]
        blocks = (_block(s, DEMOTED, SQL, lines),)
        does = ("In a bidirectional pair the old primary replicates from the new one already: it takes writes again "
                "(the monitor's heartbeat among them), as both nodes of such a pair do.")
    else:
        blocks = (_block(s, DEMOTED, SQL, change_source(s)),)
        does = (f"With the pair's replication account ({setup_sql.REPL_USER}) and its GTID position; it stays "
                f"read-only. Replace {REPL_PASSWORD} with the password kept when the pair was set up.")
    return Step("replicate", f"Let {_name(s, DEMOTED)} replicate from the new primary", does, blocks,
                "demoted-replicates",
                f"{_name(s, DEMOTED)} replicates from the new primary, IO and SQL threads without error, caught up"
                + (", and takes writes (bidirectional)" if s.both_ways else ", and stays read-only"))


def _errant(s: SwitchInput) -> Step:
    position = "SELECT @@GLOBAL.gtid_executed" if s.mysql else "SELECT @@GLOBAL.gtid_binlog_state"
    return Step(
        "errant", "Look for transactions the new primary lacks",
        "What the old primary wrote and never sent (errant transactions) would be lost, or replayed, by replicating "
        "over it: if it holds any, rebuild it from the new primary instead of the next step."
        + (" In a bidirectional pair its own transactions reach the new primary once that one replicates from it "
           "again; only a third server's count." if s.both_ways else ""),
        (_block(s, DEMOTED, SQL, ["-- only look", position]), _block(s, PROMOTED, SQL, ["-- only look", position])),
        "no-errant",
        f"{_name(s, DEMOTED)} holds no GTID the new primary lacks")


def _rejoin_replicate(s: SwitchInput) -> Step:
    if s.both_ways:
        blocks = (_block(s, DEMOTED, SQL, ["-- its channel from the other node is kept: start it if it is stopped",
                                          start_replica(s)]),
                  _block(s, PROMOTED, SQL, ["-- its channel from the old primary, stopped during the failover",
                                            start_replica(s)]),
                  _block(s, DEMOTED, SQL, ["-- once both channels run: both nodes of a bidirectional pair take writes",
                                          *writable(s)]))
        does = ("Both channels of the bidirectional pair run again; then the old primary takes writes again (the "
                "monitor's heartbeat among them), as both nodes of such a pair do.")
    else:
        blocks = (_block(s, DEMOTED, SQL, change_source(s)),)
        does = (f"With the pair's replication account ({setup_sql.REPL_USER}) and its GTID position; it stays "
                f"read-only. Replace {REPL_PASSWORD} with the password kept when the pair was set up.")
    return Step("replicate", f"Let {_name(s, DEMOTED)} replicate from the new primary", does, blocks,
                "demoted-replicates" if not s.both_ways else "both-replicate",
                f"{_name(s, DEMOTED)} replicates from the new primary without error, caught up"
                + (", and the new primary replicates from it" if s.both_ways else ", and stays read-only"))


def _verify() -> Step:
    return Step("verify", "Verify the pair",
                "Nothing to run: the panel checks both nodes, then polls the pair in its new roles as the monitor "
                "will.", (), "verify", "the pair's High Availability and Replication statuses are both Alive")


def procedure(s: SwitchInput) -> Procedure:
    if s.kind == SWITCHOVER:
        steps = [_demoted_read_only(s, False), _caught_up(s)]
        if not s.both_ways:
            steps.append(_stop_replication(s, lost=False))
        steps += [_writable(s), _applications(s), _swap(s), _point_back(s), _verify()]
    elif s.kind == FAILOVER:
        steps = [_confirm_down(s), _fence(s), _stop_replication(s, lost=True), _writable(s), _applications(s),
                 _swap(s)]
    else:
        steps = [_demoted_read_only(s, True), _errant(s), _rejoin_replicate(s), _verify()]
    return Procedure(s.kind, KINDS[s.kind], tuple(steps), notes(s))


def notes(s: SwitchInput) -> tuple[str, ...]:
    out = ["Run each block on the node it names, in order. The panel runs none of them: its checks only read, "
           "with the monitor account; Swap roles changes the panel, never a server."]
    if s.kind == SWITCHOVER:
        out.append("Writes fail from the moment the primary is read-only until the applications use the new "
                   "primary: plan a short pause of the vault.")
    if s.kind == FAILOVER:
        out.append("When the old primary returns, open Rejoin on the pair page: it must not take writes before.")
    if s.kind != REJOIN and s.both_ways:
        out.append("Until the end the pair replicates one way only: the alerts may say so.")
    return tuple(out)
