"""The plain-language text of each cause: its summaries and its remediation line.

`evaluate` decides *which* cause applies (the codes are in `monitor.vocabulary`); this module holds the
summary templates (keyed by the situation, since one cause word can arise from either end of a direction)
and the remediation line an operator can act on. Templates use `str.format` fields filled by `render`;
a missing field shows as "?".
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.vocabulary import Cause as C

_LOGS = "its error log (/var/log/mysql/error.log or `journalctl -u {unit}`)"

REMEDIATION: dict[str, str] = {
    C.MONITOR_STALE: (
        "Check that a Celery worker with beat runs (`celery -A hapanel worker -B`, or the worker and beat services) "
        "and that Redis answers; the worker's log says why it stopped."
    ),
    C.OK: "",
    C.PRIMARY_DOWN: (
        "Check the primary's {server} process and " + _LOGS + "; once it is back the secondary reconnects "
        "within {retry_option} seconds."
    ),
    C.SECONDARY_DOWN: (
        "Check the secondary's {server} process and " + _LOGS + "; once it is back it reconnects and catches "
        "up from where it stopped."
    ),
    C.PRIMARY_HUNG: (
        "The primary accepts connections but does not answer: check its load, disk space and error log, and "
        "whether the process is stopped (SIGSTOP, a debugger); restart {server} if it stays hung."
    ),
    C.SECONDARY_HUNG: (
        "The secondary accepts connections but does not answer: check its load, disk space and error log, "
        "and whether the process is stopped; restart {server} if it stays hung."
    ),
    C.PRIMARY_UNREACHABLE: (
        "Check the network and firewall from the monitor host to the primary ({source_addr}) and the "
        "node's load; the panel cannot judge what depends on this node until the monitor reaches it."
    ),
    C.SECONDARY_UNREACHABLE: (
        "Check the network and firewall from the monitor host to the secondary and the node's load; the "
        "panel cannot judge what depends on this node until the monitor reaches it."
    ),
    C.UNREACHABLE: (
        "The monitor reaches neither node: check the monitor host's own network and DNS first, then both "
        "servers."
    ),
    C.LINK_CUT: (
        "Both servers are up: check the network between them (firewall, routes, VPN) on the replication "
        "address set in {change_source}; the {replica} reconnects by itself once packets flow again."
    ),
    C.TLS_FAILURE: (
        "The {replica} rejects the {source}'s certificate: check that it has not expired, {option}_SSL_CA and that "
        "the certificate has a SAN for the exact {option}_HOST, then run {stop_replica}; {start_replica} on the "
        "{replica}."
    ),
    C.CERTIFICATE_EXPIRED: (
        "Install a new certificate for the {source} from the same CA, with the same names and addresses in its "
        "subjectAltName, in the files its ssl_cert and ssl_key name; then run {reload_tls} on the {source}. The "
        "{replica} reconnects by itself within {retry_option} seconds, and so does the panel."
    ),
    C.AUTH_FAILURE: (
        "The {source} refuses the replication user: check the user and password in {change_source} on the "
        "{replica} and that the user exists on the {source} with REPLICATION SLAVE; then {start_replica}."
    ),
    C.BINLOG_MISSING: (
        "The {source} purged binary logs the {replica} still needs: re-seed the {replica} from a fresh "
        "copy ({reseed}) and restart replication at the copy's GTID position: the pair page's Rebuild assistant "
        "gives the steps for this pair and checks each one."
    ),
    C.IO_ERROR: (
        "Read the IO error on the {replica} ({show_status} and its error log), fix its cause, then run "
        "{start_replica} there."
    ),
    C.STOPPED_BY_OPERATOR: (
        "Someone ran {stop_replica} on the {replica}: if this is not planned maintenance, run {start_replica} there "
        "and check that both threads return to Yes."
    ),
    C.APPLY_ERROR: (
        "The {replica}'s data differ from the {source}: inspect the failing row named in the error, "
        "fix it on "
        "the {replica}, then {start_replica}; do not skip events blindly (the data would stay different)."
    ),
    C.NOT_CONFIGURED: (
        "Set up the missing direction on the {replica}: the pair's setup page gives the exact {change_source} "
        "statement; then run {start_replica} there."
    ),
    C.MONITOR_AUTH_FAILURE: (
        "The monitor's own login is refused: check the monitor user and password stored in hapanel for the "
        "node and that the user holds {monitor_privilege}; replication itself may be fine."
    ),
    C.MONITOR_TLS_FAILURE: (
        "The monitor cannot set up TLS with the node: check the CA stored in hapanel for the node and that "
        "the server certificate has not expired and has a SAN for the address the monitor uses."
    ),
    C.UNREADABLE: (
        "The server answered something hapanel cannot interpret: check the evidence and the server version; "
        "report the raw values if the server is a supported MySQL/MariaDB."
    ),
    C.POLL_ERROR: (
        "Open the pair's settings and enter each node's monitor password (and its certificate or key, if it "
        "uses one) again, then save: a stored value the monitor cannot use is the usual reason. If the poll "
        "still fails, the worker's log holds the traceback."
    ),
}

# Summary templates, keyed by the situation evaluate found.
SUMMARY: dict[str, str] = {
    "link-up": "Link {direction} is up: the {replica}'s IO thread is Yes, heartbeat {age}",
    "link-up-blind": (
        "Link {direction} is up as far as the {replica} can tell (IO thread Yes); the {source} is unreachable "
        "from the panel ({source_reach})"
    ),
    "link-up-lagging": (
        "Link {direction} is up but the {replica} is {sbm} s behind: heartbeat {age} (the SQL thread "
        "is behind)"
    ),
    "replica-blind": (
        "The {replica} is unreachable from the panel ({replica_reach}), but the {source} still replicates from "
        "it, so the link between them is up; {direction} itself cannot be checked"
    ),
    "source-down": "The {source} ({source_addr}) is down: connection refused; {replica_view}",
    "source-down-by-replica": (
        "The {source} ({source_addr}) looks down: {replica_view} ({io_error}) and the monitor cannot reach it "
        "either ({source_reach})"
    ),
    "source-silent": (
        "The {source} ({source_addr}) is silent: it does not answer the monitor ({source_reach}) and "
        "{replica_view}; it is down, or cut off from both the panel and the {replica}"
    ),
    "source-isolated": (
        "The {source} ({source_addr}) is cut off from the {replica} and from the monitor ({source_reach}): "
        "{replica_view}; it is down, or alive beyond a partition"
    ),
    "replica-back": (
        "The {replica} ({replica_addr}) answers again after being down; its IO thread ({direction}) is "
        "{io_desc} and reconnects within {retry_option}"
    ),
    "source-back": (
        "The {source} ({source_addr}) answers again after being down; the {replica}'s IO thread is {io_desc} "
        "and reconnects within {retry_option}"
    ),
    "replica-down": (
        "The {replica} ({replica_addr}) is down: {replica_how}; nothing is replicated {direction}"
    ),
    "replica-unreachable": (
        "The monitor cannot read the {replica} ({replica_addr}): {replica_reach}{replica_error}; the "
        "state of "
        "{direction} is unknown"
    ),
    "source-hung": (
        "The {source} ({source_addr}) looks hung: it accepts the monitor's connection but does not answer, "
        "and {replica_view}"
    ),
    "link-cut-stale": (
        "Link {direction} is cut: the heartbeat on the {replica} is {age} old although the monitor "
        "writes it on "
        "the {source} every poll; the IO thread still says Yes until slave_net_timeout runs out"
    ),
    "link-down": (
        "Link {direction} is down: the {replica}'s IO thread is {io_desc} while the monitor reaches "
        "{source_seen}"
    ),
    C.TLS_FAILURE: (
        "The {replica} cannot open TLS to the {source} ({direction}): IO "
        "thread {io_desc}: {io_error}"
    ),
    C.CERTIFICATE_EXPIRED: (
        "The {source}'s TLS certificate has expired, as the panel's own handshake with it says: the {replica}, "
        "which verifies it, cannot replicate from it ({direction}): IO thread {io_desc}: {io_error}"
    ),
    C.AUTH_FAILURE: (
        "The {source} refuses the {replica}'s replication user ({direction}): "
        "IO thread {io_desc}: {io_error}"
    ),
    C.BINLOG_MISSING: "The {source} no longer has the binary log the {replica} needs ({direction}): {io_error}",
    C.IO_ERROR: "The {replica}'s IO thread ({direction}) stopped on error {io_errno}: {io_error}",
    "io-stopped": (
        "Replication {direction} was stopped by an operator: the "
        "{replica}'s IO thread is No, no error"
    ),
    "sql-stopped": (
        "The {replica}'s SQL thread ({direction}) was stopped by an operator, no error: changes are received "
        "but not applied"
    ),
    C.APPLY_ERROR: "The {replica} stopped applying changes {direction}: SQL error {sql_errno}: {sql_error}",
    "applying": "Changes {direction} are applied: the {replica}'s SQL thread is Yes",
    C.NOT_CONFIGURED: (
        "The {replica} ({replica_addr}) has no replication channel: the {direction} direction a {topology} "
        "pair needs is not set up"
    ),
    C.UNREADABLE: (
        "The {replica} ({replica_addr}) answered something hapanel cannot "
        "interpret ({detail}); {direction} is unknown"
    ),
    C.POLL_ERROR: "The monitor could not poll this pair ({error})",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def render(template: str, ctx: dict) -> str:
    """Fill a template; never raises, so a text problem cannot hide a status."""
    try:
        return template.format_map(_Blank(ctx))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


def summary(case: str, ctx: dict) -> str:
    return render(SUMMARY.get(case, case), {**server_words(ctx.get("flavour", ""), ctx.get("version", "")), **ctx})


def remediation(cause: str, ctx: dict) -> str:
    """The cause's remediation line, in the words of the server's flavour and version (`flavour`, `version` in
    `ctx`; MariaDB's words when they are not known)."""
    return render(REMEDIATION.get(cause, ""), {**server_words(ctx.get("flavour", ""), ctx.get("version", "")), **ctx})


@lru_cache(maxsize=64)  # every verdict of every poll asks; callers copy, never change, what it returns
def server_words(flavour: str, version: str) -> dict[str, str]:
    """The statements, options and tools a remediation line names, as this server spells them: MySQL 8.0.22
    renamed the replica statements (8.4 removed the old ones), and only MariaDB ships mariabackup."""
    if flavour != "mysql":
        return {"server": "mariadbd", "unit": "mariadb", "show_status": "SHOW ALL SLAVES STATUS",
                "start_replica": "START SLAVE", "stop_replica": "STOP SLAVE", "change_source": "CHANGE MASTER TO",
                "option": "MASTER", "retry_option": "MASTER_CONNECT_RETRY", "monitor_privilege": "SLAVE MONITOR",
                "reseed": "mariabackup, or mysqldump --single-transaction --gtid", "client": "mariadb",
                "reset_replica": "RESET SLAVE ALL", "cnf_section": "[mariadbd]", "set_global": "SET GLOBAL",
                "log_replica_updates": "log_slave_updates", "gtid_option": "MASTER_USE_GTID=slave_pos",
                "ssl_option": "MASTER_SSL=1", "binlog_tool": "mariadb-binlog", "reload_tls": "FLUSH SSL"}
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:3])
    if numbers and numbers < (8, 0, 22):
        return {"server": "mysqld", "unit": "mysql", "show_status": "SHOW SLAVE STATUS",
                "start_replica": "START SLAVE", "stop_replica": "STOP SLAVE", "change_source": "CHANGE MASTER TO",
                "option": "MASTER", "retry_option": "MASTER_CONNECT_RETRY", "monitor_privilege": "REPLICATION CLIENT",
                "reseed": "mysqldump --single-transaction --master-data, or the clone plugin", "client": "mysql",
                "reset_replica": "RESET SLAVE ALL", "cnf_section": "[mysqld]", "set_global": "SET GLOBAL",
                "log_replica_updates": "log_slave_updates", "gtid_option": "MASTER_AUTO_POSITION=1",
                "ssl_option": "MASTER_SSL=1", "binlog_tool": "mysqlbinlog",
                "reload_tls": "ALTER INSTANCE RELOAD TLS (8.0.16 and later; restart mysqld before)"}
    return {"server": "mysqld", "unit": "mysql", "show_status": "SHOW REPLICA STATUS",
            "start_replica": "START REPLICA", "stop_replica": "STOP REPLICA",
            "change_source": "CHANGE REPLICATION SOURCE TO", "option": "SOURCE", "retry_option": "SOURCE_CONNECT_RETRY",
            "monitor_privilege": "REPLICATION CLIENT",
            "reseed": "the clone plugin, or mysqldump --single-transaction --source-data", "client": "mysql",
            "reset_replica": "RESET REPLICA ALL", "cnf_section": "[mysqld]", "set_global": "SET PERSIST",
            "log_replica_updates": "log_replica_updates", "gtid_option": "SOURCE_AUTO_POSITION=1",
            "ssl_option": "SOURCE_SSL=1", "binlog_tool": "mysqlbinlog", "reload_tls": "ALTER INSTANCE RELOAD TLS"}
