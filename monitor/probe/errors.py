"""Name what went wrong: the monitor's own connection failures, and the replica's IO thread errors.

PyMySQL wraps every OSError raised while connecting (refused, timeout, TLS handshake, DNS) in
OperationalError(2003, "Can't connect to MySQL server on 'host' (<str(OSError)>)") and keeps the
original as `original_exception` (and as `__context__`); a socket failing later becomes 2013
"Lost connection to MySQL server during query (<detail>)" or 2006 "MySQL server has gone away
(<repr>)". So the exception object is examined first and its message only when it carries no
original (e.g. one that crossed a process boundary).
"""

from __future__ import annotations

import errno as _errno
import re
import socket
import ssl

from pymysql import err as pymysql_err

from monitor.readings import Reach

# Client error codes (CR_*) that mean "the socket failed"; which way it failed is in the detail.
_CONNECTION_ERRNOS = {2002, 2003, 2006, 2013, 2055}
# 2026: CR_SSL_CONNECTION_ERROR; 3159: MySQL refuses a plain connection (require_secure_transport).
_TLS_ERRNOS = {2026, 3159}
# The monitor's account is refused or lacks a privilege: 1044 no access to the database, 1045
# wrong credentials, 1130 host not allowed, 1142/1143 table/column privilege, 1227 needs SLAVE
# MONITOR / SUPER (what SHOW SLAVE STATUS answers with only BINLOG MONITOR), 1698 no password.
_AUTH_ERRNOS = {1044, 1045, 1130, 1142, 1143, 1227, 1698}

# A network path that is gone does not prove the process is gone: treat like a black hole.
_UNREACHABLE = {_errno.EHOSTUNREACH, _errno.ENETUNREACH}

_MAX_MESSAGE = 300

_CANT_CONNECT_RE = re.compile(
    r"""Can't connect to MySQL server on (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") \((.*)\)\s*$""", re.S
)


def _os_reach(exc: BaseException) -> Reach | None:
    """Reach for a socket-level exception, None when it is not one we can name."""
    # TimeoutError first: a stalled TLS handshake raises TimeoutError("_ssl.c: The handshake
    # operation timed out"), which is a hung node, not a certificate problem.
    if isinstance(exc, TimeoutError):  # socket.timeout is an alias of it
        return Reach.TIMEOUT
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Reach.TLS
    if isinstance(exc, ConnectionRefusedError):
        return Reach.REFUSED
    # A reset or broken pipe is what a crashed (kill -9) server leaves behind.
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return Reach.REFUSED
    if isinstance(exc, socket.gaierror):
        return None  # DNS failure: neither refused nor timed out
    if isinstance(exc, OSError):
        if exc.errno == _errno.ETIMEDOUT or exc.errno in _UNREACHABLE:
            return Reach.TIMEOUT
        if exc.errno == _errno.ECONNREFUSED:
            return Reach.REFUSED
        if exc.errno in (_errno.ECONNRESET, _errno.EPIPE, _errno.ECONNABORTED):
            return Reach.REFUSED
    return None


def _detail_reach(detail: str) -> Reach | None:
    """Reach from the text PyMySQL put in parentheses, when the original exception is not at hand."""
    text = detail.lower()
    if "timed out" in text or "[errno 110]" in text or "timeouterror" in text:
        return Reach.TIMEOUT
    if "[errno 113]" in text or "[errno 101]" in text or "no route to host" in text:
        return Reach.TIMEOUT
    if "[ssl" in text or "certificate_verify_failed" in text or "sslerror" in text or "ssl:" in text:
        return Reach.TLS
    if "[errno 111]" in text or "connection refused" in text:
        return Reach.REFUSED
    if any(word in text for word in ("[errno 104]", "connection reset", "[errno 32]", "broken pipe")):
        return Reach.REFUSED
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps, outermost first (bounded: chains can loop)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8 and all(current is not seen for seen in chain):
        chain.append(current)
        original = getattr(current, "original_exception", None)
        if isinstance(original, BaseException):
            current = original
        else:
            current = current.__cause__ or current.__context__
    return chain


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _describe_os(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _connection_reach(code: int, message: str, exc: BaseException) -> Reach:
    for cause in _causes(exc)[1:]:
        reach = _os_reach(cause)
        if reach is not None:
            return reach
    match = _CANT_CONNECT_RE.match(message)
    # Only the part in parentheses: a host name like 'ssl-db' must not read as a TLS failure.
    reach = _detail_reach(match.group(1) if match else message)
    if reach is not None:
        return reach
    if code in (2006, 2013) and "(" not in message:
        # Bare end-of-stream: the server closed the socket (crash or shutdown) without a word.
        return Reach.REFUSED
    return Reach.ERROR


def classify(exc: BaseException) -> tuple[Reach, int | None, str]:
    """(Reach, MySQL error number or None, short message) for an exception raised while probing.

    The error number is only set for errors PyMySQL or the server numbered; plain socket errors
    give None. The message is the driver's or the OS's own text, flattened and shortened.
    """
    if isinstance(exc, pymysql_err.MySQLError):
        args = exc.args
        code = args[0] if args and isinstance(args[0], int) and not isinstance(args[0], bool) else None
        if code is not None:
            message = str(args[1]) if len(args) > 1 else ""
        else:
            message = " ".join(str(arg) for arg in args)
        if isinstance(exc, pymysql_err.InterfaceError) and not code and not message.strip():
            # PyMySQL's InterfaceError(0, "") means the connection object was already closed.
            return Reach.ERROR, None, "connection already closed"
        if code == 0:
            code = None
        message = _short(message) or type(exc).__name__
        if code in _TLS_ERRNOS:
            return Reach.TLS, code, message
        if code in _AUTH_ERRNOS:
            return Reach.AUTH, code, message
        if code in _CONNECTION_ERRNOS:
            return _connection_reach(code, message, exc), code, message
        return Reach.ERROR, code, message

    reach = _os_reach(exc)
    return reach or Reach.ERROR, None, _short(_describe_os(exc))


# Finds the OS errno in a replica's Last_IO_Error, in the spellings of MariaDB ('(111 "Connection
# refused")', 'system error: 104'), MySQL ('(111)') and Python ('[Errno 110]').
_OS_ERRNO_RE = re.compile(r'\((\d{1,4})(?:\s+"[^"]*")?\)|system error:\s*(\d{1,4})|\[Errno (\d{1,4})\]')
_OS_ERRNO_WORDS = (
    ("connection refused", _errno.ECONNREFUSED),
    ("connection reset", _errno.ECONNRESET),
    ("timed out", _errno.ETIMEDOUT),
)


def _os_errno(message: str) -> int | None:
    found = None
    for match in _OS_ERRNO_RE.finditer(message):
        found = int(next(group for group in match.groups() if group is not None))
    if found is not None and found != 0:
        return found  # the last one: the OS error closes the message, after host and retry counts
    text = message.lower()
    for words, number in _OS_ERRNO_WORDS:
        if words in text:
            return number
    return None


def io_errno_family(errno: int, message: str) -> str:
    """Family of a replica's Last_IO_Errno/Last_IO_Error, so rules need not know every variant.

    One of: refused, reset, blackhole, timeout, tls, auth, binlog-missing, none, other.
    """
    if isinstance(message, bytes | bytearray):
        message = bytes(message).decode("utf-8", "replace")
    if not isinstance(message, str):
        message = ""
    if not isinstance(errno, int) or isinstance(errno, bool):
        return "other"
    if errno == 0:
        return "none"
    if errno == 2026:
        return "tls"
    if errno == 1045:
        return "auth"
    if errno == 1236:  # the source purged the binlog (or GTID) the replica asks for
        return "binlog-missing"
    if errno in (2003, 2013, 2006):
        os_errno = _os_errno(message)
        if os_errno == _errno.ECONNREFUSED:
            return "refused"  # nothing listens: the source process is gone
        if os_errno == _errno.ECONNRESET:
            return "reset"  # the socket was torn down, typically right after a crash
        if os_errno == _errno.ETIMEDOUT:
            # A connect that times out meets a black hole; an established link that times out
            # meets a hung source or a cut link.
            return "blackhole" if errno == 2003 else "timeout"
    return "other"
