"""Certificates about to expire: each server's own TLS certificate, 30 days ahead. Pure: the clock is the checkup's.

A replica that verifies its source's certificate (Master_SSL_Verify_Server_Cert) stops replicating the moment that
certificate expires: its IO thread retries as `Connecting` with error 2026 until a new one is in place. Clients that
verify it, the panel's own connection among them, are refused at the same moment. The certificate is read from the
panel's own TLS handshake with the node (subject, issuer, not-after); where the panel connects without TLS, from
the server's `Ssl_server_not_after`, which both flavours report for the certificate they serve.
"""

from __future__ import annotations

import re

from hapanel.durations import humanize
from monitor.risks.checkup import Direction, NodeCheckup, PairCheckup, Risk, directions
from monitor.risks.rules_base import Unreadable, risk
from monitor.vocabulary import RiskCode, Severity

WARN_DAYS = 30.0
CRITICAL_DAYS = 7.0

_FUTURE = "the {node}'s TLS certificate {who}expires in {left}, on {when}: {impact}"
_PAST = "the {node}'s TLS certificate {who}expired {left} ago, on {when}: {impact}"
_FIX = ("Issue a new certificate for the {node} from the same CA, with the same names and addresses in its "
        "subjectAltName; write it and its key over {files}, then {reload}. If the CA changes too, give the new CA "
        "to every replica of the {node} ({option}_SSL_CA) and to hapanel (the node's CA certificate).")

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), start=1)}
# OpenSSL's ASN1_TIME_print, as Ssl_server_not_after shows it: "Dec  6 02:43:27 2026 GMT".
_OPENSSL_TIME = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? (\d{4}) GMT")


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a date of the proleptic Gregorian calendar (H. Hinnant's algorithm)."""
    year -= month <= 2
    era, yoe = divmod(year, 400)
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    era, doe = divmod(days + 719468, 146097)
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, doy - (153 * mp + 2) // 5 + 1


def utc_text(epoch: float) -> str:
    """`2026-12-06 02:43 UTC`: seconds since the epoch as the warnings write a date."""
    days, rest = divmod(int(epoch), 86400)
    year, month, day = _civil_from_days(days)
    return f"{year:04d}-{month:02d}-{day:02d} {rest // 3600:02d}:{rest % 3600 // 60:02d} UTC"


def parse_openssl_time(text: str) -> float:
    """`Ssl_server_not_after` in seconds since the epoch; `Unreadable` when it is not OpenSSL's print of a time."""
    match = _OPENSSL_TIME.fullmatch(text.strip())
    if match is None or match.group(1) not in _MONTHS:
        raise Unreadable(f"Ssl_server_not_after={text!r:.60} is not a time as OpenSSL prints it")
    name, *numbers = match.groups()
    day, hour, minute, second, year = (int(n) for n in numbers)
    month = _MONTHS[name]
    days = _days_from_civil(year, month, day)
    if _civil_from_days(days) != (year, month, day) or hour > 23 or minute > 59 or second > 60:
        raise Unreadable(f"Ssl_server_not_after={text!r:.60} is no date")
    return float(days * 86400 + hour * 3600 + minute * 60 + second)


def reload_step(server: NodeCheckup, node: str) -> str:
    """How this server takes a new certificate: online where its version can, else a restart."""
    numbers = tuple(int(n) for n in re.findall(r"\d+", server.version)[:3])
    if server.flavour == "mysql":
        if not numbers or numbers >= (8, 0, 16):
            return f"run ALTER INSTANCE RELOAD TLS on the {node}: new connections, replication's too, take it at once"
        return f"restart mysqld on the {node} (ALTER INSTANCE RELOAD TLS needs MySQL 8.0.16)"
    if not numbers or numbers >= (10, 4):
        return f"run FLUSH SSL on the {node}: new connections, replication's too, take it at once"
    return f"restart mariadbd on the {node} (FLUSH SSL needs MariaDB 10.4)"


def _span(seconds: float) -> str:
    days = seconds / 86400
    if days < 1:
        return humanize(seconds)
    whole = int(days + 0.5)
    return f"{whole} day" + ("" if whole == 1 else "s")


def _seen(n: NodeCheckup) -> tuple[float, dict] | None:
    """(not-after, what the evidence says of it) as the panel saw the certificate; None when it saw none."""
    if n.certificate is not None:
        c = n.certificate
        return c.not_after, {"subject": c.subject, "issuer": c.issuer, "seen": c.where}
    if n.cert_not_after:
        seen = "the server's Ssl_server_not_after"
        return parse_openssl_time(n.cert_not_after), {"subject": "", "issuer": "", "seen": seen}
    return None


def _verifiers(c: PairCheckup, role: str) -> list[Direction]:
    """The directions whose replica verifies this node's certificate: they stop when it expires."""
    out = []
    for d in directions(c):
        ch = d.channel() if d.replica.read else None
        if d.src_role == role and ch is not None and ch.ssl_verify:
            out.append(d)
    return out


def _impact(verifiers: list[Direction], node: str, expired: bool) -> str:
    if not verifiers:
        return ("clients that verify it, the panel's among them, refuse it" if expired
                else "then clients that verify it, the panel's among them, refuse it")
    replica = verifiers[0].rep_role
    if expired:
        return (f"the {replica}, which verifies it, cannot replicate from the {node} (TLS error 2026), and verifying "
                "clients refuse it")
    return (f"then the {replica}, which verifies it, stops replicating from the {node} (TLS error 2026), and "
            "verifying clients refuse it")


def expiry(c: PairCheckup) -> list[Risk]:
    if c.at is None:
        return []  # no clock given: nothing to count the days from
    out = []
    for n in (c.primary, c.secondary):
        seen = _seen(n)
        if seen is None:
            continue
        not_after, ev = seen
        left = not_after - c.at
        days = left / 86400
        if days > WARN_DAYS:
            continue
        severity = Severity.CRITICAL if days <= CRITICAL_DAYS else Severity.WARNING
        verifiers = _verifiers(c, n.role)
        who = f"({ev['subject']}, issued by {ev['issuer']}) " if ev["subject"] else ""
        ssl_cert, ssl_key = n.var("ssl_cert") or "", n.var("ssl_key") or ""
        files = f"{ssl_cert} and {ssl_key}" if ssl_cert and ssl_key else "the files ssl_cert and ssl_key name"
        ev.update(not_after=utc_text(not_after), days_left=round(days, 1), ssl_cert=ssl_cert,
                  verified_by=", ".join(d.rep_role for d in verifiers) or "no replica")
        cas = [f"{d.rep_role}: {ch.ssl_ca}" for d in verifiers if (ch := d.channel()) is not None and ch.ssl_ca]
        if cas:
            ev["replica_ssl_ca"] = ", ".join(cas)  # where a new CA would have to go too
        if n.cert_not_after:
            ev["server_not_after"] = n.cert_not_after
        out.append(risk(RiskCode.CERTIFICATE, severity, n.role, _PAST if left < 0 else _FUTURE, _FIX, n, ev,
                        (n.role,), node=n.role, who=who, left=_span(abs(left)),
                        when=utc_text(not_after), impact=_impact(verifiers, n.role, left < 0),
                        files=files, reload=reload_step(n, n.role)))
    return out
