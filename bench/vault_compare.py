"""How long a comparison of the vault's two copies takes, by the size of the vault: equal copies, one row changed
on the secondary alone, and with a writer busy on the primary throughout (rows in flight settled).

A sandbox pair of its own is started and its vault filled with N accounts (one resource per 10) on the primary,
replicated; each comparison runs as emergency access's reader, as the panel's does.

    HAPANEL_DEVELOPMENT=1 .venv/bin/python bench/vault_compare.py [--rows 1000,10000,100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

from common import ROOT, configure, median, slot_port, wait

SANDBOX_PORT = slot_port(3527)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["HAPANEL_SANDBOX_DIR"] = str(ROOT / "var" / f"bench-vault-{SANDBOX_PORT}" / "sandbox")
    os.environ["HAPANEL_SANDBOX_PORT"] = str(SANDBOX_PORT)
    configure("vault-compare", redis_db=10)
    from django.conf import settings

    from devtools.demo_vault import configure as configure_vault
    from devtools.registry import register
    from devtools.sandbox import SandboxPair

    sandbox = SandboxPair(settings.SANDBOX_DIR, settings.SANDBOX_PORT)
    sandbox.down()
    sandbox = SandboxPair(settings.SANDBOX_DIR, settings.SANDBOX_PORT)
    print(sandbox.up(), file=sys.stderr)
    try:
        pair = register(sandbox)
        access = configure_vault(sandbox, pair)
        print("| accounts | equal: median s | one row drifted: median s | busy primary: median s | busy: rounds "
              "(median) | busy: drift reported |")
        print("|---:|---:|---:|---:|---:|---:|")
        for n in sorted(int(r) for r in args.rows.split(",")):
            fill(sandbox, n)
            print(row(sandbox, pair, access, n, args.runs))
    finally:
        sandbox.down()


def fill(sandbox, n: int) -> None:
    """N accounts under N/10 resources on the primary (MariaDB's sequence engine), replicated."""
    sandbox.sql("primary", "SET FOREIGN_KEY_CHECKS = 0", "DELETE FROM vault.grants", "DELETE FROM vault.accounts",
                "DELETE FROM vault.resources",
                f"INSERT INTO vault.resources (id, name, address) SELECT seq, CONCAT('res-', seq), 'host.example'"
                f" FROM vault.seq_1_to_{max(1, n // 10)}",
                f"INSERT INTO vault.accounts (resource_id, login, secret, notes) SELECT 1 + seq % {max(1, n // 10)},"
                f" CONCAT('login-', seq), REPEAT('s', 120), 'bench' FROM vault.seq_1_to_{n}", timeout=120)
    wait(lambda: sandbox.sql("secondary", "SELECT COUNT(*) AS n FROM vault.accounts")[0]["n"] == n, 120,
         "the accounts on the secondary")


def _compare(sandbox, pair, access):
    from emergency.connect import connect
    from monitor.probe.vault_compare import Node, compare

    nodes = {n.role: n for n in pair.nodes.all()}
    conns = [connect(nodes[r], pair, access.reader_user, access.reader_password(), timeout=10.0)
             for r in ("primary", "secondary")]
    try:
        started = time.perf_counter()
        result = compare(Node.on(conns[0], "primary"), Node.on(conns[1], "secondary"), access.schema,
                         bidirectional=True, wait=30.0)
        return time.perf_counter() - started, result
    finally:
        for c in conns:
            c.close()


def row(sandbox, pair, access, n: int, runs: int) -> str:
    equal = [_compare(sandbox, pair, access) for _ in range(runs)]
    assert all(r.outcome == "equal" for _, r in equal), [r.to_dict() for _, r in equal]
    sandbox.sql("secondary", "SET sql_log_bin = 0", "UPDATE vault.accounts SET notes = 'drift' WHERE id = "
                "(SELECT MIN(id) FROM vault.accounts)")
    drifted = [_compare(sandbox, pair, access) for _ in range(runs)]
    assert all(r.outcome == "differs" for _, r in drifted)
    sandbox.sql("secondary", "SET sql_log_bin = 0", "UPDATE vault.accounts SET notes = 'bench' WHERE notes = 'drift'")
    busy, stop = [], threading.Event()
    low = sandbox.sql("primary", "SELECT MIN(id) AS id FROM vault.accounts")[0]["id"]

    def writer() -> None:  # rows all over the table, one after the other, as fast as the primary commits
        conn = sandbox.admin("primary")
        i = 0
        with conn.cursor() as cur:
            while not stop.is_set():
                i += 1
                cur.execute("UPDATE vault.accounts SET notes = %s WHERE id = %s", (f"w{i}", low + (i * 7919) % n))
        conn.close()
    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        busy = [_compare(sandbox, pair, access) for _ in range(runs)]
    finally:
        stop.set()
        thread.join(10)
    reported = sum(1 for _, r in busy if r.outcome != "equal")
    return (f"| {n} | {median([t for t, _ in equal]):.3f} | {median([t for t, _ in drifted]):.3f} | "
            f"{median([t for t, _ in busy]):.3f} | {median([r.rounds for _, r in busy]):.0f} | {reported} of {runs} |")


if __name__ == "__main__":
    main()
