"""What an operator does about the current cause: the reference guide's steps, brought up to date.

The guide of the product hapanel replaces says little more than "reconfigure HA, send us the .err file".
Here each cause gets the one-line remediation `evaluate` already rendered (causes.py), where to read the
server's error log, what to check, and - only where it is really needed - when the pair must be set up again.
"""

from __future__ import annotations

from board.presenters import ALIVE, STALE_CAUSE, PairView, StatusLine
from monitor import causes
from monitor.vocabulary import Cause as C

# The checks name statements and tools in the server's own words (causes.server_words fills the fields).
ERROR_LOG = (
    "Read the server's error log: `SELECT @@log_error;` on the node gives its path; on Debian/Ubuntu it is "
    "usually /var/log/mysql/error.log or the journal (`journalctl -u {unit} --since -1h`), in a container "
    "`docker logs <container>`."
)
REPLICA_STATUS = ("On the replica run `{show_status}\\G` and read the IO and SQL threads' states and their last "
                  "errors (Last_IO_Error, Last_SQL_Error).")

CHECKS: dict[str, list[str]] = {
    C.PRIMARY_DOWN: ["`systemctl status {unit}` on the primary: did it crash, was it stopped, is the disk full?",
                     ERROR_LOG],
    C.SECONDARY_DOWN: ["`systemctl status {unit}` on the secondary: did it crash, was it stopped?", ERROR_LOG],
    C.PRIMARY_HUNG: ["Load, I/O wait and free disk space on the primary (`top`, `iostat`, `df -h`).", ERROR_LOG],
    C.SECONDARY_HUNG: ["Load, I/O wait and free disk space on the secondary.", ERROR_LOG],
    C.LINK_CUT: ["From each node, connect to the other on the replication address and port "
                 "(`{client} -h <{option}_HOST> -P <port> -u <repl user> -p --ssl`).", REPLICA_STATUS],
    C.TLS_FAILURE: ["Check the certificate dates and SAN: `openssl s_client -connect <host>:<port> -starttls mysql`.",
                    REPLICA_STATUS, ERROR_LOG],
    C.CERTIFICATE_EXPIRED: ["The source's certificate and its dates: `openssl s_client -connect <host>:<port> "
                            "-starttls mysql </dev/null | openssl x509 -noout -subject -issuer -enddate`.",
                            REPLICA_STATUS],
    C.AUTH_FAILURE: ["On the source: `SHOW GRANTS FOR '<repl user>'@'<replica address>';`.", REPLICA_STATUS],
    C.BINLOG_MISSING: ["On the source: `SHOW BINARY LOGS;` and `SELECT @@gtid_binlog_pos;` against the replica's "
                       "received GTID position.", ERROR_LOG],
    C.IO_ERROR: [REPLICA_STATUS, ERROR_LOG],
    C.STOPPED_BY_OPERATOR: [REPLICA_STATUS, "Ask who is doing maintenance; pause the pair in hapanel during "
                            "planned work so nobody is paged."],
    C.APPLY_ERROR: [REPLICA_STATUS, "Compare the failing row on both nodes before changing anything.", ERROR_LOG],
    C.NOT_CONFIGURED: ["The pair's setup page lists the server settings and the {change_source} statement."],
    C.MONITOR_AUTH_FAILURE: ["`SHOW GRANTS FOR 'hapanel_monitor'@'<monitor host>';` on the node."],
    C.MONITOR_TLS_FAILURE: ["`openssl s_client -connect <host>:<port> -starttls mysql` from the monitor host."],
    C.UNREACHABLE: ["`ping` and `nc -vz <host> <port>` from the monitor host to both nodes."],
    STALE_CAUSE: ["Is a Celery worker with beat running (`celery -A hapanel worker -B`, or the worker and beat "
                  "services of docker-compose)? Its log says why it stopped.",
                  "Is Redis reachable from the panel and the worker (`redis-cli -u $REDIS_URL ping`)?"],
}
CHECKS[C.NOT_POLLED] = CHECKS[STALE_CAUSE]
# A failed poll says nothing about the servers: the monitor's side is where to look, not the nodes' logs.
CHECKS[C.POLL_ERROR] = ["The pair's settings: is each node's monitor password, certificate and key filled in as the "
                        "server expects? Saving them again re-encrypts them with this panel's key.",
                        "The worker's log (`celery -A hapanel worker`, or the worker service's output) holds the "
                        "traceback of the failed poll."]
CHECKS[C.PRIMARY_UNREACHABLE] = CHECKS[C.SECONDARY_UNREACHABLE] = CHECKS[C.UNREACHABLE]

# When the pair has to be set up again (the guide's "configure high availability all over again"), which is
# far rarer than the guide implies: most failures heal by themselves or by restarting replication.
SETUP_AGAIN: dict[str, str] = {
    C.BINLOG_MISSING: "Yes: the replica cannot catch up from the source's binary logs any more; re-seed it from a "
                      "fresh copy of the source with the Rebuild assistant below, which sets the direction up again.",
    C.APPLY_ERROR: "Only if the data differ in more rows than you can fix by hand: then re-seed the replica from a "
                   "fresh copy of the source with the Rebuild assistant below.",
    C.NOT_CONFIGURED: "Yes: the direction was never set up or was reset ({reset_replica}).",
    C.POLL_ERROR: "No: nothing changed on the servers; fix the pair's stored settings in hapanel.",
}
NEVER_AGAIN = ("No: once the cause is fixed the replica reconnects and catches up by itself. Set the pair up again "
               "only if a node was replaced, restored from a backup or changed its address or port.")
WAITING_REMEDIATION = ("Nothing to do while the monitor runs: a new pair gets its first poll within a few seconds. "
                       "If it keeps waiting, start the monitor (Celery worker and beat) and check Redis.")
STALE_REMEDIATION = ("The statuses are not being refreshed: start the monitor (Celery worker and beat) and check "
                     "Redis; the pair's real state is unknown until the next poll.")


def steps(line: StatusLine, remediation: str, flavour: str = "", version: str = "") -> dict:
    """The runbook card for one status that is not Alive, in the words of the pair's servers."""
    stale = line.cause in (STALE_CAUSE, C.NOT_POLLED)
    waiting_or_stale = WAITING_REMEDIATION if line.cause == C.NOT_POLLED else STALE_REMEDIATION
    words = {**causes.server_words(flavour, version), "flavour": flavour, "version": version}
    return {
        "label": line.label, "status": line.status, "cause": line.cause, "summary": line.summary,
        "remediation": waiting_or_stale if stale else (remediation or causes.remediation(line.cause, words)),
        "checks": [causes.render(check, words) for check in CHECKS.get(line.cause, [ERROR_LOG])],
        "setup_again": "" if stale else causes.render(SETUP_AGAIN.get(line.cause, NEVER_AGAIN), words),
    }


def server_of(readings: dict) -> tuple[str, str]:
    """(flavour, version) of the pair's servers, from its last readings (the first node that told)."""
    for role in ("secondary", "primary"):
        node = (readings or {}).get(role) or {}
        if node.get("flavour"):
            return str(node["flavour"]), str(node.get("version") or "")
    return "", ""


def for_pair(view: PairView, health: dict, readings: dict | None = None) -> list[dict]:
    """One card per status that needs attention (none when both are Alive and fresh)."""
    kinds = ((view.ha, "ha"), (view.repl, "replication"))
    flavour, version = server_of(readings or {})
    return [steps(line, ((health or {}).get(key) or {}).get("remediation", ""), flavour, version)
            for line, key in kinds if line.status != ALIVE]
