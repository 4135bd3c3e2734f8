"""The rebuild of one node of a pair from the other, as numbered steps for its flavour and version. Pure.

When a replica cannot catch up any more (binary logs purged, data that differ, a replaced or wiped node), the
way back is a fresh copy of its source: stop it, copy the source (MariaDB: mariabackup or mariadb-dump;
MySQL: the clone plugin or mysqldump), restore the copy, start its GTID history where the copy ends, and point
replication at the source over TLS with the pair's own replication account, which the setup assistant
generates (`pairs.setup_sql`). Each step names the check the panel runs for it (`judge.CHECKS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from monitor.causes import server_words
from pairs import setup_sql
from pairs.repair.procedure import SHELL, SOURCE, SQL, TARGET, TRANSFER, Block, Procedure, Step
from pairs.setup_sql import MARIADB, MYSQL_84, Passwords, SetupInput

BACKUP, DUMP, CLONE = "mariabackup", "dump", "clone"
METHODS = [(BACKUP, "mariabackup (MariaDB): a physical copy, fastest on a large vault"),
           (DUMP, "a logical dump (mariadb-dump or mysqldump)"),
           (CLONE, "the clone plugin (MySQL 8.0.17 or later)")]
# Where the operator types what the panel never stores: the replication account's password kept from the setup,
# and a one-off password of the clone account.
REPL_PASSWORD = "<password of hapanel_repl>"
CLONE_PASSWORD = "<a new one-off password>"
CLONE_USER = "hapanel_clone"
DUMP_FILE = "hapanel-rebuild.sql"
_PATH = re.compile(r"^/[A-Za-z0-9._/@+-]*$")


@dataclass(frozen=True)
class Hosts:
    """Where things are on the nodes' hosts; the defaults are Debian's packages'."""

    datadir: str = "/var/lib/mysql"
    backup_dir: str = "/var/backups/hapanel-rebuild"
    service: str = ""  # the systemd unit; the flavour's own when empty
    os_user: str = "mysql"
    source_defaults: str = ""  # an option file for the tools run on the source's host (--defaults-file)
    target_defaults: str = ""

    def __post_init__(self) -> None:
        for name in ("datadir", "backup_dir", "source_defaults", "target_defaults"):
            value = getattr(self, name)
            if value and (not _PATH.match(value) or value.rstrip("/") in ("", "/")):
                raise ValueError(f"{name} must be an absolute path below / without spaces or quotes: {value!r}")
        for name in ("service", "os_user"):
            if not re.match(r"^[A-Za-z0-9_.@-]*$", getattr(self, name)):
                raise ValueError(f"{name} must be a plain name: {getattr(self, name)!r}")


@dataclass(frozen=True)
class RebuildInput:
    setup: SetupInput  # the pair as the setup assistant knows it: topology, nodes, TLS, accounts
    version: tuple[int, ...]  # the servers' version
    target: str = "secondary"  # the node rebuilt; the other one is the source of the copy
    method: str = BACKUP
    hosts: Hosts = field(default_factory=Hosts)

    def __post_init__(self) -> None:
        if self.target not in ("primary", "secondary"):
            raise ValueError(f"unknown node {self.target!r}")
        if problem := method_problem(self.setup.flavour, self.version, self.method):
            raise ValueError(problem)


def method_problem(flavour: str, version: tuple[int, ...], method: str) -> str:
    """Why `method` cannot rebuild this server, or ""."""
    if method == BACKUP and flavour != MARIADB:
        return "mariabackup copies MariaDB only: use the clone plugin or mysqldump for MySQL"
    if method == CLONE and (flavour == MARIADB or tuple(version[:3]) < (8, 0, 17)):
        return "the clone plugin needs MySQL 8.0.17 or later"
    if method not in dict(METHODS):
        return f"unknown method {method!r}"
    return ""


def methods_for(flavour: str, version: tuple[int, ...]) -> list[str]:
    return [m for m, _ in METHODS if not method_problem(flavour, version, m)]


# ---- the words of each flavour and version -------------------------------------------------------------------


def _mysql(r: RebuildInput) -> bool:
    return r.setup.flavour != MARIADB


def _tool(r: RebuildInput, mariadb_name: str, old_name: str) -> str:
    """MariaDB 10.5 named its tools mariadb-*; MySQL and older MariaDB call them mysql*."""
    return mariadb_name if not _mysql(r) and tuple(r.version[:2]) >= (10, 5) else old_name


def _client(r: RebuildInput, defaults: str) -> str:
    return _with_defaults(_tool(r, "mariadb", "mysql"), defaults)


def _with_defaults(tool: str, defaults: str) -> str:
    # --defaults-file must come first on every MySQL/MariaDB tool.
    return f"{tool} --defaults-file={defaults}" if defaults else tool


def _service(r: RebuildInput) -> str:
    return r.hosts.service or ("mysql" if _mysql(r) else "mariadb")


def _words(r: RebuildInput) -> dict[str, str]:
    return server_words("mysql" if _mysql(r) else "mariadb", ".".join(map(str, r.version)))


def _nodes(r: RebuildInput) -> tuple[setup_sql.Server, setup_sql.Server]:
    """(target, source)."""
    target = r.setup.primary if r.target == "primary" else r.setup.secondary
    return target, setup_sql.peer(r.setup, target)


def _where(r: RebuildInput, host: str, kind: str) -> str:
    target, source = _nodes(r)
    node = target if host == TARGET else source
    if host == TRANSFER:
        return f"From the {source.role}'s host to the {target.role}'s host"
    if kind == SQL:
        return f"On the {node.role} ({setup_sql.address(node)}), as an administrator ({_client(r, '')})"
    return f"On the {node.role}'s host ({node.host}), as root"


def _block(r: RebuildInput, host: str, kind: str, lines: list[str]) -> Block:
    text = "".join(f"{line};\n" if kind == SQL and not line.startswith("--") else f"{line}\n" for line in lines)
    return Block(host=host, kind=kind, where=_where(r, host, kind), text=text)


def _replication(r: RebuildInput, replica: setup_sql.Server) -> list[str]:
    """The setup assistant's CHANGE ... TO and START for `replica`, in the words of the server's version."""
    statements = setup_sql.replication(r.setup, replica, Passwords(REPL_PASSWORD, "", "", "", ""))
    if _mysql(r) and tuple(r.version[:3]) < (8, 0, 23):
        # Before 8.0.23 MySQL knows only the MASTER words (the setup assistant writes for 8.0.26 and later).
        statements = [s.replace("CHANGE REPLICATION SOURCE TO", "CHANGE MASTER TO").replace("SOURCE_", "MASTER_")
                      .replace("START REPLICA", "START SLAVE") for s in statements]
    return statements


# ---- the steps -------------------------------------------------------------------------------------------------


def _stop(r: RebuildInput) -> Step:
    target, _ = _nodes(r)
    return Step(
        "stop-target", f"Stop the {target.role}",
        f"Its data are replaced whole: stop the {target.role}'s server before anything touches its data directory.",
        (_block(r, TARGET, SHELL, [f"systemctl stop {_service(r)}"]),),
        "target-stopped",
        f"the {target.role} no longer answers the panel (connection refused or timed out); the panel cannot tell a "
        "stopped server from one it cannot reach, so run this check from where you stopped it",
    )


def _copy(r: RebuildInput) -> Step:
    target, source = _nodes(r)
    folder = r.hosts.backup_dir
    if r.method == BACKUP:
        lines = [f"rm -rf {folder} && mkdir -p {folder}",
                 f"{_with_defaults('mariabackup', r.hosts.source_defaults)} --backup --target-dir={folder}",
                 f"mariabackup --prepare --target-dir={folder}"]
        does = (f"mariabackup copies the {source.role}'s data while it serves, then --prepare makes the copy "
                "consistent; the copy records the GTID position it ends at (xtrabackup_binlog_info, "
                "mariadb_backup_binlog_info on MariaDB 11).")
    else:
        data_flag = "--source-data=2" if _mysql(r) and tuple(r.version[:3]) >= (8, 0, 26) else "--master-data=2"
        gtid = "--set-gtid-purged=ON" if _mysql(r) else "--gtid"
        dump = _with_defaults(_tool(r, "mariadb-dump", "mysqldump"), r.hosts.source_defaults)
        lines = [f"mkdir -p {folder}",
                 f"{dump} --all-databases --single-transaction {gtid} {data_flag} --routines --events --triggers "
                 f"--flush-privileges > {folder}/{DUMP_FILE}"]
        does = (f"A consistent dump of every schema of the {source.role}, accounts included, taken in one "
                "transaction while it serves; its head records the GTID position it ends at.")
    return Step(
        "copy-source", f"Copy the {source.role}",
        does,
        (_block(r, SOURCE, SHELL, lines),
         _block(r, TRANSFER, SHELL, [f"rsync -a --delete {folder}/ {target.host}:{folder}/"])),
        "source-ready",
        f"the {source.role} answers with its binary log on, so a copy taken now carries its GTID position; the "
        "panel cannot see the copy's files: the next step's check proves they landed",
    )


def _starts_read_only(r: RebuildInput) -> bool:
    """A MariaDB node the monitor writes its heartbeat on (a bidirectional pair's) starts read-only on the copy:
    a write before its GTID history is set would be numbered from the copy's state, which its source may have
    replicated already, or never, and either way one of the two would stop on error 1236."""
    return not _mysql(r) and r.setup.topology == "bidirectional"


def _start(r: RebuildInput) -> list[str]:
    if not _starts_read_only(r):
        return [f"systemctl start {_service(r)}"]
    # MYSQLD_OPTS reaches the server through its systemd unit, for this start only.
    return ['systemctl set-environment MYSQLD_OPTS="--read-only"', f"systemctl start {_service(r)}",
            "systemctl unset-environment MYSQLD_OPTS"]


def _restore(r: RebuildInput) -> Step:
    target, source = _nodes(r)
    hosts, service = r.hosts, _service(r)
    empty = f"find {hosts.datadir} -mindepth 1 -delete"
    if r.method == BACKUP:
        lines = [empty,
                 f"{_with_defaults('mariabackup', hosts.target_defaults)} --copy-back "
                 f"--target-dir={hosts.backup_dir} --datadir={hosts.datadir}",
                 f"chown -R {hosts.os_user}:{hosts.os_user} {hosts.datadir}",
                 *_start(r)]
        does = (f"The {target.role}'s data directory is emptied, the copy is copied back into it and handed to "
                f"the {hosts.os_user} user, and the server starts on it.")
    elif _mysql(r):
        reset = "RESET BINARY LOGS AND GTIDS" if r.setup.flavour == MYSQL_84 else "RESET MASTER"
        client = _client(r, hosts.target_defaults)
        lines = [empty,
                 f"{_with_defaults('mysqld', hosts.target_defaults)} --initialize-insecure --user={hosts.os_user} "
                 f"--datadir={hosts.datadir}",
                 f"systemctl start {service}",
                 f'{client} -e "{reset}"',
                 f"{client} < {hosts.backup_dir}/{DUMP_FILE}"]
        does = (f"The {target.role} starts on a new, empty data directory; the dump is loaded into it (it sets "
                "gtid_purged to the copy's GTID set, which needs an empty GTID history first).")
    else:
        lines = [empty,
                 f"{_with_defaults(_tool(r, 'mariadb-install-db', 'mysql_install_db'), hosts.target_defaults)} "
                 f"--user={hosts.os_user} --datadir={hosts.datadir} --skip-test-db",
                 *_start(r),
                 f"{_client(r, hosts.target_defaults)} --init-command='SET sql_log_bin = 0' "
                 f"< {hosts.backup_dir}/{DUMP_FILE}"]
        does = (f"The {target.role} starts on a new, empty data directory and the dump is loaded into it without "
                "writing its binary log (the load must not replicate anywhere).")
    return Step(
        "restore", f"Restore the copy on the {target.role}", does,
        (_block(r, TARGET, SHELL, lines),),
        "target-restored",
        f"the {target.role} answers the monitor again, restarted after this repair began, and holds the "
        f"{source.role}'s heartbeat row written after it began: its data are a copy of the {source.role} taken "
        "during this repair, accounts included",
    )


def _clone(r: RebuildInput) -> list[Step]:
    """MySQL's clone plugin: the target pulls the copy itself, over TLS, and restarts on it."""
    target, source = _nodes(r)
    account = f"'{CLONE_USER}'@'{target.host}'"
    ssl = " REQUIRE SSL" if r.setup.tls else ""
    donor = [
        "-- error 1125 means the plugin is installed already: go on",
        "INSTALL PLUGIN clone SONAME 'mysql_clone.so'",
        "SET sql_log_bin = 0",
        f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{CLONE_PASSWORD}'{ssl}",
        f"GRANT BACKUP_ADMIN ON *.* TO {account}",
        "SET sql_log_bin = 1",
    ]
    recipient = ["-- error 1125 means the plugin is installed already: go on",
                 "INSTALL PLUGIN clone SONAME 'mysql_clone.so'",
                 f"SET GLOBAL clone_valid_donor_list = '{setup_sql.address(source)}'"]
    if r.setup.tls:
        recipient.append(f"SET GLOBAL clone_ssl_ca = '{r.setup.tls_dir}/ca.pem'")
    recipient.append(f"CLONE INSTANCE FROM '{CLONE_USER}'@'{source.host}':{source.port} "
                     f"IDENTIFIED BY '{CLONE_PASSWORD}'{ssl}")
    return [
        Step("copy-source", f"Let the {source.role} donate a clone",
             f"The clone plugin on the {source.role} and a one-off account the {target.role} clones with (BACKUP_ADMIN "
             "only), kept out of the binary log.",
             (_block(r, SOURCE, SQL, donor),), "source-ready",
             f"the {source.role} answers with its binary log on, so the clone carries its GTID set; the panel cannot "
             "see the plugin or the account"),
        Step("restore", f"Clone the {source.role} into the {target.role}",
             f"CLONE INSTANCE replaces every schema of the {target.role} with the {source.role}'s, with its GTID "
             f"set, and restarts the server; start it by hand if nothing supervises it.",
             (_block(r, TARGET, SQL, recipient),
              _block(r, TARGET, SHELL, [f"systemctl start {_service(r)}   # only if it did not restart by itself"])),
             "target-restored",
             f"the {target.role} answers the monitor again, restarted after this repair began, and holds the "
             f"{source.role}'s heartbeat row written after it began: its data are the clone"),
    ]


def _position(r: RebuildInput) -> Step:
    target, source = _nodes(r)
    client, folder = _client(r, r.hosts.target_defaults), r.hosts.backup_dir
    if _mysql(r):
        carried = "the clone" if r.method == CLONE else "the dump (SET @@GLOBAL.GTID_PURGED)"
        blocks = (_block(r, TARGET, SQL, ["-- nothing to change: only look", "SELECT @@GLOBAL.gtid_executed"]),)
        does = (f"Nothing to run: {carried} carried the {source.role}'s GTID set to the {target.role}; "
                f"gtid_executed there now holds it.")
    else:
        if r.method == BACKUP:
            read = f"pos=$(awk '{{print $3}}' {folder}/*_binlog_info)"
            origin = "the copy's *_binlog_info file"
        else:
            read = f"pos=$(sed -n \"s/^-- SET GLOBAL gtid_slave_pos='\\(.*\\)';$/\\1/p\" {folder}/{DUMP_FILE})"
            origin = "the dump's gtid_slave_pos line"
        lines = [read, 'echo "the copy ends at GTID position $pos"',
                 '[ -n "$pos" ] || echo "the copy recorded no GTID position: stop here and check the copy"']
        both_ways = _starts_read_only(r)
        lines += [f'own=$({client} -N -e "SELECT @@GLOBAL.gtid_binlog_state")',
                  # the highest seq of each domain-server of the copy's position and of what it wrote since
                  "state=$(echo \"$pos,$own\" | tr ',' '\\n' | awk -F- 'NF == 3 { k = $1 \"-\" $2; "
                  "if (!(k in seq) || $3 + 0 > seq[k]) seq[k] = $3 } "
                  "END { for (k in seq) printf \"%s%s-%s\", (n++ ? \",\" : \"\"), k, seq[k] }')",
                  # the replica position first, while the binary log is empty: gtid_strict_mode refuses one
                  # behind the node's own binary log
                  f'{client} -e "RESET MASTER; SET GLOBAL gtid_slave_pos = \'$pos\'; '
                  f'SET GLOBAL gtid_binlog_state = \'$state\';{" SET GLOBAL read_only = OFF;" if both_ways else ""}"']
        blocks = (_block(r, TARGET, SHELL, lines),)
        does = (f"Reads the GTID position from {origin} and starts the {target.role}'s history there: its "
                "replica position (gtid_slave_pos), so that replication resumes right after the copy, and its own "
                "binary log state (gtid_binlog_state, after RESET MASTER), so that its next transactions follow the "
                f"{source.role}'s numbering (with anything written there since it started)"
                + ("; it started read-only, so that the monitor's heartbeat could not write there before, and "
                   "takes writes again at the end of this step." if both_ways else "."))
    return Step(
        "position", f"Start the {target.role}'s GTID history where the copy ends", does, blocks,
        "target-position",
        f"the {target.role}'s GTID position includes the {source.role}'s position when this repair began and "
        f"goes no further than the {source.role}'s own: it resumes after the copy, without transactions of its own "
        "(errant ones)",
    )


def _replicate(r: RebuildInput) -> Step:
    target, source = _nodes(r)
    blocks = [_block(r, TARGET, SQL, _replication(r, target))]
    if r.method == CLONE:
        blocks.append(_block(r, SOURCE, SQL, ["-- the clone account is no longer needed", "SET sql_log_bin = 0",
                                              f"DROP USER IF EXISTS '{CLONE_USER}'@'{target.host}'",
                                              "SET sql_log_bin = 1"]))
    words = _words(r)
    return Step(
        "replicate", f"Point the {target.role} at the {source.role} over TLS",
        f"{words['change_source']} with the pair's replication account ({setup_sql.REPL_USER}) and "
        f"{'verified TLS' if r.setup.tls else 'no TLS (the pair has TLS off)'}, from the copy's GTID position; then "
        f"{words['start_replica']}. Replace {REPL_PASSWORD} with the password kept when the pair was set up.",
        tuple(blocks), "target-replicates",
        f"the {target.role}'s IO and SQL threads replicating from the {source.role} both run, without error"
        + (", over TLS" if r.setup.tls else ""),
    )


def _reverse(r: RebuildInput) -> Step:
    """A bidirectional pair: the source replicates from the rebuilt node too, with an account the copy lacks."""
    target, source = _nodes(r)
    words = _words(r)
    accounts = ["SET sql_log_bin = 0", *setup_sql.replication_accounts(r.setup, target, REPL_PASSWORD),
                "SET sql_log_bin = 1"]
    if _mysql(r):
        resume = [words["start_replica"]]
        how = f"then make sure its replica threads run ({words['start_replica']} does nothing to running threads)."
    else:
        # The source asks for its own domain too, from where its replica position last saw it loop back: the
        # rebuilt node's binary log starts at the copy, so the source resumes from everything it holds itself.
        resume = [words["stop_replica"], "SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos",
                  words["start_replica"]]
        how = (f"then let the {source.role} resume from everything it holds (its gtid_binlog_pos): the "
               f"{target.role}'s binary log starts at the copy, so an older replica position of the {source.role} "
               "is not in it (error 1236).")
    return Step(
        "reverse", f"Let the {source.role} replicate from the {target.role} again",
        f"The copy holds the {source.role}'s accounts, not the one the {source.role} replicates from the "
        f"{target.role} with: create it (not replicated); " + how,
        (_block(r, TARGET, SQL, accounts), _block(r, SOURCE, SQL, resume)),
        "source-replicates",
        f"the {source.role}'s IO and SQL threads replicating from the {target.role} both run, without error",
    )


def _verify(r: RebuildInput) -> Step:
    return Step(
        "verify", "Verify the pair",
        "Nothing to run: the panel checks both nodes as Test connection does, then polls the pair as the monitor "
        "will.", (), "verify",
        "the pair's High Availability and Replication statuses are both Alive, from real polls",
    )


def rebuild(r: RebuildInput) -> Procedure:
    """The steps that rebuild `r.target` from the other node, for the pair's flavour, version and topology."""
    target, source = _nodes(r)
    if r.method == CLONE:
        steps = [*_clone(r), _position(r), _replicate(r)]
    else:
        steps = [_stop(r), _copy(r), _restore(r), _position(r), _replicate(r)]
    if r.setup.topology == "bidirectional":
        steps.append(_reverse(r))
    steps.append(_verify(r))
    return Procedure("rebuild", f"Rebuild the {target.role} from the {source.role}", tuple(steps), notes(r))


def notes(r: RebuildInput) -> tuple[str, ...]:
    target, source = _nodes(r)
    out = [
        f"Pause the pair first (Pause on the pair page): the {target.role} will be down for a while and the alerts "
        "would page for it.",
        "Run each block on the host it names, in order. The panel runs none of them and changes no server: its "
        "checks only read, with the monitor account.",
        f"Everything on the {target.role} is replaced by the {source.role}'s copy: take what must survive off it "
        "first.",
        f"The copy needs room: the {source.role}'s data size in {r.hosts.backup_dir} on both hosts.",
    ]
    if r.method == DUMP and not _mysql(r):
        out.append("The dump holds the mysql schema (accounts and grants): load it into the same MariaDB major "
                   "version.")
    if r.setup.topology == "bidirectional":
        out.append(f"Until the last step the {source.role} takes every write: the pair is one-way meanwhile.")
    return tuple(out)
