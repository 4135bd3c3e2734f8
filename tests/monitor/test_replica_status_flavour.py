"""Which server flavour and version a node runs, and the statements the probe sends it for each."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.probe.flavour import gtid_position_query, parse_version, replica_status_statement
from monitor.probe.replica_status import UnreadableStatus


@pytest.mark.parametrize(
    "version, comment, expected",
    [
        ("10.11.19-MariaDB-0+deb12u1", "Debian 12", ("mariadb", (10, 11, 19))),
        ("5.5.5-10.11.6-MariaDB", "", ("mariadb", (10, 11, 6))),
        ("8.0.36", "MySQL Community Server - GPL", ("mysql", (8, 0, 36))),
        ("8.4.2-log", "", ("mysql", (8, 4, 2))),
        ("5.7.44-log", "MySQL Community Server (GPL)", ("mysql", (5, 7, 44))),
        ("11.4.3-MariaDB-log", "", ("mariadb", (11, 4, 3))),
        ("10.6.18", "mariadb.org binary distribution", ("mariadb", (10, 6, 18))),
        ("8.0.35-27", "Percona Server (GPL), Release 27", ("mysql", (8, 0, 35))),
        (b"10.11.6-MariaDB", b"", ("mariadb", (10, 11, 6))),
        ("5.5.5", "", ("mysql", (5, 5, 5))),
    ],
)
def test_parse_version(version: str, comment: str, expected: tuple) -> None:
    assert parse_version(version, comment) == expected


@pytest.mark.parametrize("version", ["", "MariaDB", "banana-8.0.1", "8", "8.0.x", "1.2.3.4", None, "８.0.1"])
def test_parse_version_garbage(version: str) -> None:
    with pytest.raises(UnreadableStatus):
        parse_version(version)


@given(st.text(max_size=30), st.text(max_size=30))
def test_parse_version_never_raises_anything_else(version: str, comment: str) -> None:
    try:
        flavour, numbers = parse_version(version, comment)
    except UnreadableStatus:
        return
    assert flavour in ("mariadb", "mysql")
    assert len(numbers) == 3


@pytest.mark.parametrize(
    "flavour, version, statement",
    [
        ("mariadb", (10, 11, 19), "SHOW ALL SLAVES STATUS"),
        ("mariadb", (10, 0, 0), "SHOW ALL SLAVES STATUS"),
        ("mariadb", (11, 4, 3), "SHOW ALL SLAVES STATUS"),
        ("mariadb", (5, 5, 68), "SHOW SLAVE STATUS"),
        ("mysql", (8, 0, 22), "SHOW REPLICA STATUS"),
        ("mysql", (8, 4, 2), "SHOW REPLICA STATUS"),
        ("mysql", (9, 1, 0), "SHOW REPLICA STATUS"),
        ("mysql", (8, 0, 21), "SHOW SLAVE STATUS"),
        ("mysql", (5, 7, 44), "SHOW SLAVE STATUS"),
    ],
)
def test_replica_status_statement(flavour: str, version: tuple[int, ...], statement: str) -> None:
    assert replica_status_statement(flavour, version) == statement


def test_statement_from_parsed_version() -> None:
    assert replica_status_statement(*parse_version("5.5.5-10.11.6-MariaDB")) == "SHOW ALL SLAVES STATUS"
    assert replica_status_statement(*parse_version("8.0.36")) == "SHOW REPLICA STATUS"


def test_gtid_position_query() -> None:
    assert gtid_position_query("mariadb") == "SELECT @@gtid_current_pos"
    assert gtid_position_query("mysql") == "SELECT @@gtid_executed"


def test_unknown_flavour() -> None:
    with pytest.raises(UnreadableStatus, match="unknown server flavour"):
        gtid_position_query("postgres")
    with pytest.raises(UnreadableStatus, match="unknown server flavour"):
        replica_status_statement("postgres", (16, 0, 0))
