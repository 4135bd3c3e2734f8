"""classify() for the monitor's own connection failures; io_errno_family() for the replica's IO errors."""

from __future__ import annotations

import errno
import socket
import ssl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymysql import err

from monitor.probe.errors import classify, io_errno_family
from monitor.readings import Reach

CERT_FAILED = (
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch, "
    "certificate is not valid for '127.0.0.2'. (_ssl.c:1006)"
)


def wrapped(original: OSError, host: str = "127.0.0.1") -> err.OperationalError:
    """What PyMySQL's Connection.connect() raises for an OSError (see its `except BaseException`)."""
    try:
        raise original
    except OSError as exc:
        try:
            wrapper = err.OperationalError(2003, f"Can't connect to MySQL server on {host!r} ({exc})")
            wrapper.original_exception = exc
            raise wrapper
        except err.OperationalError as raised:
            return raised


def lost(detail: BaseException | None) -> err.OperationalError:
    """What PyMySQL's _read_bytes raises when the socket fails after connecting."""
    if detail is None:
        return err.OperationalError(2013, "Lost connection to MySQL server during query")
    try:
        raise detail
    except OSError as exc:
        try:
            raise err.OperationalError(2013, f"Lost connection to MySQL server during query ({exc})")
        except err.OperationalError as raised:
            return raised


# --- classify: exception objects as PyMySQL builds them -----------------------------------------


def test_refused_wrapped() -> None:
    exc = wrapped(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))
    assert classify(exc) == (
        Reach.REFUSED,
        2003,
        "Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)",
    )


def test_connect_timeout_wrapped() -> None:
    exc = wrapped(TimeoutError("timed out"))
    assert classify(exc)[:2] == (Reach.TIMEOUT, 2003)


def test_black_hole_etimedout_wrapped() -> None:
    exc = wrapped(OSError(errno.ETIMEDOUT, "Connection timed out"))
    assert classify(exc)[:2] == (Reach.TIMEOUT, 2003)


def test_no_route_to_host_is_timeout_not_refused() -> None:
    exc = wrapped(OSError(errno.EHOSTUNREACH, "No route to host"))
    assert classify(exc)[0] == Reach.TIMEOUT


def test_certificate_verify_failed_wrapped() -> None:
    exc = wrapped(ssl.SSLCertVerificationError(1, CERT_FAILED))
    reach, code, message = classify(exc)
    assert (reach, code) == (Reach.TLS, 2003)
    assert "CERTIFICATE_VERIFY_FAILED" in message


def test_ssl_handshake_error_wrapped() -> None:
    exc = wrapped(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"))
    assert classify(exc)[0] == Reach.TLS


def test_tls_handshake_timeout_is_a_timeout() -> None:
    exc = wrapped(TimeoutError("_ssl.c:990: The handshake operation timed out"))
    assert classify(exc)[0] == Reach.TIMEOUT


def test_dns_failure_is_error() -> None:
    exc = wrapped(socket.gaierror(-2, "Name or service not known"), host="db-a.invalid")
    assert classify(exc)[:2] == (Reach.ERROR, 2003)


def test_lost_connection_reset() -> None:
    exc = lost(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"))
    assert classify(exc) == (
        Reach.REFUSED,
        2013,
        "Lost connection to MySQL server during query ([Errno 104] Connection reset by peer)",
    )


def test_lost_connection_timed_out_hung_node() -> None:
    # Recorded from PyMySQL 1.2.4 against a socket that accepts and never answers.
    exc = lost(TimeoutError("timed out"))
    assert classify(exc) == (Reach.TIMEOUT, 2013, "Lost connection to MySQL server during query (timed out)")


def test_lost_connection_end_of_stream_is_refused() -> None:
    assert classify(lost(None))[:2] == (Reach.REFUSED, 2013)


def test_server_gone_away_broken_pipe() -> None:
    exc = err.OperationalError(2006, f"MySQL server has gone away ({BrokenPipeError(32, 'Broken pipe')!r})")
    assert classify(exc)[:2] == (Reach.REFUSED, 2006)


# --- classify: messages only (e.g. an exception re-created after crossing a process) -------------


@pytest.mark.parametrize(
    "code, message, reach",
    [
        (
            2003,
            "Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)",
            Reach.REFUSED,
        ),
        (2003, "Can't connect to MySQL server on '127.0.0.1' (timed out)", Reach.TIMEOUT),
        (
            2003,
            "Can't connect to MySQL server on '10.9.9.9' ([Errno 110] Connection timed out)",
            Reach.TIMEOUT,
        ),
        (2003, f"Can't connect to MySQL server on '127.0.0.2' ({CERT_FAILED})", Reach.TLS),
        (2003, "Can't connect to MySQL server on 'ssl-db' ([Errno 111] Connection refused)", Reach.REFUSED),
        (
            2003,
            "Can't connect to MySQL server on 'ssl-db' ([Errno -2] Name or service not known)",
            Reach.ERROR,
        ),
        (
            2013,
            "Lost connection to MySQL server during query ([Errno 104] Connection reset by peer)",
            Reach.REFUSED,
        ),
        (2013, "Lost connection to MySQL server during query (timed out)", Reach.TIMEOUT),
        (2013, "Lost connection to MySQL server during query", Reach.REFUSED),
        (2006, "MySQL server has gone away (TimeoutError('timed out'))", Reach.TIMEOUT),
        (2026, "SSL is required but the server doesn't support it", Reach.TLS),
        (1045, "Access denied for user 'hapanel'@'127.0.0.1' (using password: YES)", Reach.AUTH),
        (1044, "Access denied for user 'hapanel'@'%' to database 'hapanel_monitor'", Reach.AUTH),
        (
            1227,
            "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) "
            "for this operation",
            Reach.AUTH,
        ),
        (1130, "Host '10.0.0.7' is not allowed to connect to this MariaDB server", Reach.AUTH),
        (1146, "Table 'hapanel_monitor.heartbeat' doesn't exist", Reach.ERROR),
        (1040, "Too many connections", Reach.ERROR),
    ],
)
def test_classify_by_message(code: int, message: str, reach: Reach) -> None:
    assert classify(err.OperationalError(code, message)) == (reach, code, message)


def test_access_denied_as_programming_error_class() -> None:
    # PyMySQL maps some server errors to other classes; the number decides, not the class.
    assert classify(err.ProgrammingError(1044, "Access denied"))[0] == Reach.AUTH


def test_already_closed_interface_error() -> None:
    assert classify(err.InterfaceError(0, "")) == (Reach.ERROR, None, "connection already closed")


def test_close_twice_error() -> None:
    assert classify(err.Error("Already closed")) == (Reach.ERROR, None, "Already closed")


def test_operational_error_without_number() -> None:
    assert classify(err.OperationalError("received unknown auth switch request")) == (
        Reach.ERROR,
        None,
        "received unknown auth switch request",
    )


# --- classify: bare socket / ssl exceptions ----------------------------------------------------


@pytest.mark.parametrize(
    "exc, reach",
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), Reach.REFUSED),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), Reach.REFUSED),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), Reach.REFUSED),
        (socket.timeout("timed out"), Reach.TIMEOUT),  # noqa: UP041 - the name older code raises
        (TimeoutError(), Reach.TIMEOUT),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), Reach.TIMEOUT),
        (ssl.SSLCertVerificationError(1, CERT_FAILED), Reach.TLS),
        (ssl.SSLError(1, "[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:1006)"), Reach.TLS),
        (socket.gaierror(-2, "Name or service not known"), Reach.ERROR),
        (ValueError("Did not specify a username"), Reach.ERROR),
        (KeyboardInterrupt(), Reach.ERROR),
    ],
)
def test_bare_exceptions(exc: BaseException, reach: Reach) -> None:
    got_reach, code, message = classify(exc)
    assert (got_reach, code) == (reach, None)
    assert message.startswith(type(exc).__name__)


def test_message_is_flattened_and_short() -> None:
    reach, code, message = classify(err.OperationalError(1105, "line one\nline two  " + "x" * 1000))
    assert message.startswith("line one line two x")
    assert len(message) <= 300
    assert "\n" not in message


def test_message_adds_nothing_about_the_account() -> None:
    # The message is the driver's text only: classify never adds connection parameters.
    message = "Access denied for user 'hapanel'@'127.0.0.1' (using password: YES)"
    assert classify(err.OperationalError(1045, message))[2] == message


def test_self_referencing_cause_chain_terminates() -> None:
    exc = err.OperationalError(2003, "Can't connect to MySQL server on 'h' (weird)")
    exc.__context__ = exc
    assert classify(exc)[0] == Reach.ERROR


_exceptions = st.one_of(
    st.builds(
        err.OperationalError,
        st.one_of(
            st.integers(-5, 5000), st.sampled_from([2003, 2013, 2006, 2026, 1045]), st.text(max_size=5)
        ),
        st.text(max_size=60),
    ),
    st.builds(err.InterfaceError, st.integers(0, 3000), st.text(max_size=10)),
    st.builds(err.MySQLError),
    st.builds(OSError, st.integers(-3, 200), st.text(max_size=20)),
    st.builds(ssl.SSLError, st.integers(0, 10), st.text(max_size=20)),
    st.builds(RuntimeError, st.text(max_size=20)),
)


@given(_exceptions)
def test_classify_never_raises(exc: BaseException) -> None:
    reach, code, message = classify(exc)
    assert isinstance(reach, Reach)
    assert code is None or (isinstance(code, int) and code != 0)
    assert isinstance(message, str) and message
    assert len(message) <= 300


# --- io_errno_family ---------------------------------------------------------------------------

MARIADB_REFUSED = (
    "error reconnecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
    "message: Can't connect to server on '127.0.0.2' (111 \"Connection refused\")"
)


@pytest.mark.parametrize(
    "code, message, family",
    [
        (0, "", "none"),
        (2003, MARIADB_REFUSED, "refused"),
        # A host or port that contains 111 must not read as "refused".
        (
            2003,
            "error reconnecting to master 'repl@10.0.0.111:3111' - retry-time: 1  maximum-retries: 100000  "
            "message: Can't connect to server on '10.0.0.111' (110 \"Connection timed out\")",
            "blackhole",
        ),
        (
            2003,
            "error reconnecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
            "message: Can't connect to server on '127.0.0.2' (110 \"Connection timed out\")",
            "blackhole",
        ),
        (
            2013,
            "error reconnecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
            "message: Lost connection to server at 'handshake: reading initial communication packet', "
            "system error: 104",
            "reset",
        ),
        (
            2013,
            "error reconnecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
            "message: Lost connection to server at 'handshake: reading initial communication packet', "
            "system error: 110",
            "timeout",
        ),
        (2013, "Lost connection to MySQL server during query (timed out)", "timeout"),
        (
            2003,
            "error connecting to master 'repl@10.0.0.1:3306' - retry-time: 60 retries: 1 message: "
            "Can't connect to MySQL server on '10.0.0.1:3306' (111)",
            "refused",
        ),
        (2003, "Can't connect to MySQL server on '10.0.0.1' ([Errno 111] Connection refused)", "refused"),
        (
            2013,
            "Lost connection to MySQL server during query ([Errno 104] Connection reset by peer)",
            "reset",
        ),
        (
            2026,
            "error connecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
            "message: SSL connection error: Validation of SSL server certificate failed",
            "tls",
        ),
        (
            1045,
            "error connecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
            "message: Access denied for user 'repl'@'127.0.0.1' (using password: YES)",
            "auth",
        ),
        (
            1236,
            "Got fatal error 1236 from master when reading data from binary log: 'Could not find GTID state "
            "requested by slave in any binlog files. Probably the slave state is too old and required binlog "
            "files have been purged.'",
            "binlog-missing",
        ),
        (
            1950,
            "An attempt was made to binlog GTID 1-1-5 which would create an out-of-order sequence",
            "other",
        ),
        (2003, "Can't connect to server on '127.0.0.2' (113 \"No route to host\")", "other"),
        (2013, "Lost connection to server", "other"),
    ],
)
def test_io_errno_family(code: int, message: str, family: str) -> None:
    assert io_errno_family(code, message) == family


def test_io_errno_family_accepts_bytes_message() -> None:
    assert io_errno_family(2003, MARIADB_REFUSED.encode()) == "refused"  # type: ignore[arg-type]


@given(st.integers(-10, 5000) | st.sampled_from([0, 2003, 2013, 2026, 1045, 1236]), st.text(max_size=80))
def test_io_errno_family_always_names_a_family(code: int, message: str) -> None:
    assert io_errno_family(code, message) in {
        "refused",
        "reset",
        "blackhole",
        "timeout",
        "tls",
        "auth",
        "binlog-missing",
        "none",
        "other",
    }
