"""Certificates about to expire: the rule from tables (the clock passed in), then a real sandbox node given a
certificate that expires in 5 days, found by a real worker's checkups and told once to real receivers, and put
back."""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from django.utils import timezone
from django.utils.html import escape

from alerts.models import Notification
from devtools.sandbox import SandboxPair, certs
from monitor import checkups, poller
from monitor.evaluate import evaluate
from monitor.models import Pair, PairRisk
from monitor.probe import certificate
from monitor.probe.target import NodeTarget
from monitor.readings import NodeReading, PairReadings, Reach, ReplicationChannel
from monitor.risks.certificates import parse_openssl_time, utc_text
from monitor.risks.checkup import CertificateSeen, ChannelCheckup, NodeCheckup, PairCheckup
from monitor.risks.rules import assess
from monitor.risks.rules_base import Unreadable
from monitor.vocabulary import Cause, RiskCode, Status
from tests import risk_steps as steps
from tests.receivers import channels_for, worker_env
from tests.services import wait_for

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC).timestamp()
DAY = 86400.0
VERIFIED = ChannelCheckup(io_running="Yes", using_gtid="Slave_Pos", ssl_allowed=True, ssl_verify=True,
                          ssl_ca="/etc/mysql/tls/ca.pem")
UNVERIFIED = replace(VERIFIED, ssl_verify=False)


def seen(seconds_left: float, where: str = "the panel's TLS handshake with db-secondary:3306") -> CertificateSeen:
    return CertificateSeen(where, NOW + seconds_left, "CN=db-secondary",
                           "CN=Example Ops CA")


def node(role: str, cert: CertificateSeen | None = None, flavour: str = "mariadb", version: str = "10.11.6-MariaDB",
         channel: ChannelCheckup = VERIFIED, **fields) -> NodeCheckup:
    return NodeCheckup(role, f"db-{role}:3306", flavour=flavour, version=version,
                       variables={"ssl_cert": "/etc/mysql/tls/server.pem", "ssl_key": "/etc/mysql/tls/server.key"},
                       channels=(channel,), certificate=cert, **fields)


def pair(secondary: NodeCheckup, primary: NodeCheckup | None = None, topology: str = "bidirectional",
         at: float | None = NOW) -> PairCheckup:
    return PairCheckup(topology, primary or node("primary"), secondary, at=at)


def found(checkup: PairCheckup) -> list:
    return [r for r in assess(checkup).risks if r.code == RiskCode.CERTIFICATE]


@pytest.mark.parametrize("left, severity, words", [
    (40 * DAY, None, None),
    (30 * DAY + 60, None, None),
    (30 * DAY, "warning", "expires in 30 days, on 2026-12-31 12:00 UTC"),
    (8 * DAY, "warning", "expires in 8 days"),
    (7 * DAY, "critical", "expires in 7 days"),
    (5 * DAY - 3, "critical", "expires in 5 days"),  # a checkup a few seconds after the certificate was made
    (1.4 * DAY, "critical", "expires in 1 day,"),
    (DAY / 2, "critical", "expires in 12 h 0 min"),
    (-1 * DAY, "critical", "expired 1 day ago, on 2026-11-30 12:00 UTC"),
    (-40 * DAY, "critical", "expired 40 days ago"),
])
def test_days_left_make_the_severity(left, severity, words):
    risks = found(pair(node("secondary", seen(left))))
    if severity is None:
        assert risks == []
        return
    (r,) = risks
    assert (str(r.severity), r.subject, r.key) == (severity, "secondary", f"{RiskCode.CERTIFICATE}:secondary")
    assert r.summary.startswith("the secondary's TLS certificate (CN=db-secondary, issued by CN=Example Ops CA) ")
    assert words in r.summary, r.summary
    assert r.evidence["days_left"] == round(left / DAY, 1) and r.nodes == ("secondary",)
    when = dt.datetime.fromtimestamp(NOW + left, dt.UTC)
    assert r.evidence["not_after"] == when.strftime("%Y-%m-%d %H:%M UTC")


def test_the_evidence_says_what_the_certificate_is_and_where_it_was_seen():
    (r,) = found(pair(node("secondary", seen(5 * DAY))))
    assert r.evidence == {
        "subject": "CN=db-secondary", "issuer": "CN=Example Ops CA",
        "seen": "the panel's TLS handshake with db-secondary:3306", "not_after": "2026-12-06 12:00 UTC",
        "days_left": 5.0, "ssl_cert": "/etc/mysql/tls/server.pem", "verified_by": "primary",
        "replica_ssl_ca": "primary: /etc/mysql/tls/ca.pem"}


@pytest.mark.parametrize("topology, channel, impact", [
    # the primary replicates from the secondary and verifies its certificate: replication is what breaks
    ("bidirectional", VERIFIED, "then the primary, which verifies it, stops replicating from the secondary "
                                "(TLS error 2026), and verifying clients refuse it"),
    ("bidirectional", UNVERIFIED, "then clients that verify it, the panel's among them, refuse it"),
    # nobody replicates from the secondary of a one-way pair
    ("one-way", VERIFIED, "then clients that verify it, the panel's among them, refuse it"),
])
def test_the_summary_names_what_stops(topology, channel, impact):
    (r,) = found(pair(node("secondary", seen(10 * DAY)), node("primary", channel=channel), topology))
    assert r.summary.endswith(impact), r.summary
    assert r.evidence["verified_by"] == ("primary" if impact.startswith("then the primary") else "no replica")


def test_an_expired_certificate_says_replication_cannot_run():
    (r,) = found(pair(node("secondary", seen(-2 * DAY))))
    assert r.summary.endswith("the primary, which verifies it, cannot replicate from the secondary (TLS error "
                              "2026), and verifying clients refuse it"), r.summary


@pytest.mark.parametrize("flavour, version, reload", [
    ("mariadb", "10.11.6-MariaDB", "then run FLUSH SSL on the secondary"),
    ("mariadb", "10.4.0-MariaDB", "then run FLUSH SSL on the secondary"),
    ("mariadb", "10.3.39-MariaDB", "then restart mariadbd on the secondary (FLUSH SSL needs MariaDB 10.4)"),
    ("mysql", "8.4.3", "then run ALTER INSTANCE RELOAD TLS on the secondary"),
    ("mysql", "8.0.16", "then run ALTER INSTANCE RELOAD TLS on the secondary"),
    ("mysql", "5.7.44-log", "then restart mysqld on the secondary (ALTER INSTANCE RELOAD TLS needs MySQL 8.0.16)"),
])
def test_the_remediation_reloads_in_the_servers_own_syntax(flavour, version, reload):
    (r,) = found(pair(node("secondary", seen(3 * DAY), flavour, version)))
    assert reload in r.remediation
    assert "write it and its key over /etc/mysql/tls/server.pem and /etc/mysql/tls/server.key" in r.remediation
    option = "SOURCE" if (flavour, version) == ("mysql", "8.4.3") else "MASTER"
    assert f"({option}_SSL_CA)" in r.remediation


@pytest.mark.parametrize("text, expected", [
    ("Dec  6 02:43:27 2026 GMT", dt.datetime(2026, 12, 6, 2, 43, 27, tzinfo=dt.UTC)),
    ("Nov 28 02:42:52 2036 GMT", dt.datetime(2036, 11, 28, 2, 42, 52, tzinfo=dt.UTC)),
    ("Jan  1 00:00:00.123 2027 GMT", dt.datetime(2027, 1, 1, tzinfo=dt.UTC)),
    (" Dec  6 02:43:27 2026 GMT\n", dt.datetime(2026, 12, 6, 2, 43, 27, tzinfo=dt.UTC)),
])
def test_ssl_server_not_after_as_servers_print_it(text, expected):
    assert parse_openssl_time(text) == expected.timestamp()


@pytest.mark.parametrize("when", [dt.datetime(*t, tzinfo=dt.UTC) for t in (
    (1970, 1, 1), (2000, 2, 29, 23, 59), (2026, 12, 31, 12, 0), (2100, 3, 1, 0, 1), (2038, 1, 19, 3, 14, 8))])
def test_dates_are_written_as_the_calendar_has_them(when):
    assert utc_text(when.timestamp()) == when.strftime("%Y-%m-%d %H:%M UTC")
    assert parse_openssl_time(when.strftime("%b %d %H:%M:%S %Y GMT")) == when.timestamp()


@pytest.mark.parametrize("text", ["tomorrow", "Feb 30 00:00:00 2027 GMT", "Feb 29 00:00:00 2100 GMT",
                                  "Dec  6 24:43:27 2026 GMT", "Dez  6 02:43:27 2026 GMT",
                                  "2026-12-06T02:43:27Z", "Dec  6 02:43:27 2026 CET"])
def test_a_time_that_is_no_time_is_unreadable(text):
    with pytest.raises(Unreadable):
        parse_openssl_time(text)


def test_without_a_handshake_the_servers_own_not_after_counts():
    (r,) = found(pair(node("secondary", cert_not_after="Dec  6 12:00:00 2026 GMT")))
    assert r.summary.startswith("the secondary's TLS certificate expires in 5 days")
    assert r.evidence["seen"] == "the server's Ssl_server_not_after" and r.evidence["subject"] == ""


def test_the_handshake_is_trusted_over_the_status_and_both_are_evidence():
    (r,) = found(pair(node("secondary", seen(5 * DAY), cert_not_after="Nov 28 02:42:52 2036 GMT")))
    assert "expires in 5 days" in r.summary and r.evidence["server_not_after"] == "Nov 28 02:42:52 2036 GMT"


@pytest.mark.parametrize("secondary", [
    node("secondary"),  # no TLS at all
    node("secondary", cert_not_after=""),  # TLS variables unset: no certificate loaded
])
def test_no_certificate_no_warning(secondary):
    assert found(pair(secondary)) == []


def test_no_clock_no_count():
    assert found(pair(node("secondary", seen(DAY)), at=None)) == []


def test_junk_in_the_status_is_said_not_crashed_on():
    risks = assess(pair(node("secondary", cert_not_after="soon"))).risks
    (r,) = [r for r in risks if r.subject == RiskCode.CERTIFICATE]
    assert r.code == RiskCode.UNREADABLE and "Ssl_server_not_after='soon'" in r.summary


def test_a_node_the_panel_cannot_log_in_to_still_shows_its_expired_certificate():
    # The panel's verified login fails on the expired certificate; the handshake that only reads it still works.
    unread = NodeCheckup("secondary", "db-secondary:3306", error="tls: certificate verify failed",
                         certificate=seen(-DAY, "a TLS handshake with db-secondary:3306 that only reads it"))
    a = assess(pair(unread))
    (r,) = [r for r in a.risks if r.code == RiskCode.CERTIFICATE]
    assert "expired 1 day ago" in r.summary and a.blind == {"secondary"}
    assert "run FLUSH SSL on the secondary" in r.remediation  # MariaDB's words when the version is not known


def test_a_node_not_read_at_all_keeps_its_warning_as_it_was():
    a = assess(pair(NodeCheckup("secondary", "db-secondary:3306", error="timeout: timed out")))
    assert not [r for r in a.risks if r.code == RiskCode.CERTIFICATE] and a.blind == {"secondary"}


def test_der_that_is_no_certificate_reads_as_none():
    assert certificate.from_der(b"\x30\x03junk", "anywhere") is None


def test_a_port_that_is_no_mysql_server_gives_no_certificate():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        target = NodeTarget("secondary", "127.0.0.1", port, "monitor")
        server.settimeout(5)

        def serve() -> None:
            conn, _ = server.accept()
            with conn:  # an error packet where the greeting should be, as a server that refuses the host sends
                conn.sendall(b"\x05\x00\x00\x00\xffjunk")
        thread = threading.Thread(target=serve)
        thread.start()
        assert certificate.fetch(target, 2.0, "test") is None
        thread.join(5)


# ---- on the real sandbox pair ----------------------------------------------------------------------------------

KEY = f"{RiskCode.CERTIFICATE}:secondary"


@contextmanager
def serving(sandbox: SandboxPair, role: str, days: float) -> Iterator[None]:
    """The node serves a new certificate from the sandbox's CA, valid `days` from now, taken by FLUSH SSL; its own
    certificate back afterwards, whatever happened. The other node keeps the one it loaded: both read the same
    files, and FLUSH is LOCAL, since the binary log would carry it to the other node."""
    kept = {name: (sandbox.pki / name).read_bytes() for name in ("server-cert.pem", "server-key.pem")}
    try:
        certs.reissue_server_cert(sandbox.pki, days)
        sandbox.sql(role, "FLUSH LOCAL SSL")
        yield
    finally:
        for name, data in kept.items():
            (sandbox.pki / name).write_bytes(data)
        sandbox.sql(role, "FLUSH LOCAL SSL")


def _checked_up_since(pair_id: int, moment: dt.datetime, count: int = 1) -> None:
    """Waits for `count` checkups of the pair recorded after `moment`."""
    seen: set = set()

    def recorded() -> bool:
        at = Pair.objects.get(pk=pair_id).checked_up_at
        if at and at > moment:
            seen.add(at)
        return len(seen) >= count
    wait_for(recorded, 30, f"{count} checkup(s) of the pair after {moment:%H:%M:%S.%f}")


def _open(pair_id: int) -> PairRisk | None:
    return PairRisk.objects.filter(pair_id=pair_id, key=KEY, cleared_at__isnull=True).first()


def test_a_certificate_that_expires_in_5_days_is_told_once_and_cleared_once(
        worker_factory, receivers, sandbox_pair, healthy, viewer_client):
    pid = sandbox_pair.pk
    # The sandbox runs MariaDB's default sync_binlog=0: made durable, so its warning does not join the messages.
    first, second = (steps.setting(healthy, role, "sync_binlog", 1) for role in ("primary", "secondary"))
    with first, second:
        channels_for(receivers, warnings=True)
        worker_factory("certificates", beat=True, env={**worker_env(receivers), "HAPANEL_CHECKUP_SECONDS": "1"})
        _checked_up_since(pid, timezone.now())
        assert not PairRisk.objects.filter(pair_id=pid).exists(), "ten years left: no warning"
        with serving(healthy, "secondary", days=5):
            receivers.http.wait(1, '"warning-raised"')
            risk = wait_for(lambda: _open(pid), 10, "the open warning")
            assert risk.severity == "critical"
            assert risk.summary.startswith("the secondary's TLS certificate (CN=localhost, issued by CN=hapanel "
                                           "sandbox CA) expires in 5 days, on "), risk.summary
            assert "then the primary, which verifies it, stops replicating from the secondary" in risk.summary
            assert "run FLUSH SSL on the secondary" in risk.remediation
            assert str(healthy.pki / "server-cert.pem") in risk.remediation
            port = healthy.secondary.port
            assert risk.evidence["seen"] == f"the panel's TLS handshake with 127.0.0.1:{port}"
            assert (risk.evidence["subject"], risk.evidence["issuer"]) == ("CN=localhost", "CN=hapanel sandbox CA")
            assert 4.9 < risk.evidence["days_left"] <= 5.0 and risk.evidence["verified_by"] == "primary"
            assert risk.evidence["replica_ssl_ca"] == f"primary: {healthy.ca_file}"
            _checked_up_since(pid, timezone.now(), 3)  # found again and again: one episode, no more news
            assert PairRisk.objects.filter(pair_id=pid).count() == 1

            html = viewer_client.get(sandbox_pair.get_absolute_url()).content.decode()
            section = re.search(r'<section class="risks" id="warnings">.*?</section>', html, re.S).group(0)
            article = re.search(r'<article class="risk risk-critical">.*?</article>', section, re.S).group(0)
            assert "Critical · secondary <code>certificate-expiry</code>" in article
            assert escape(risk.summary) in article and escape(risk.remediation) in article
            for name in ("subject", "issuer", "not_after", "days_left", "seen"):
                assert f"<dt>{name}</dt><dd><code>{escape(str(risk.evidence[name]))}</code></dd>" in article
            board = viewer_client.get("/board/").content.decode()
            assert 'class="risk-marker risk-critical"' in board
        receivers.http.wait(1, '"warning-cleared"')
        _checked_up_since(pid, timezone.now(), 2)
        wait_for(lambda: not Notification.objects.filter(status__in=["pending", "sending"]).exists(), 20,
                 "every notification delivered")

    assert _open(pid) is None and PairRisk.objects.get(pair_id=pid).cleared_at is not None
    for name, receiver, per_channel in (("email", receivers.smtp, 1), ("webhook", receivers.http, 1),
                                        ("syslog", receivers.syslog, 2), ("snmp", receivers.traps, 1)):
        raised = receiver.messages("Warning raised" if name == "email" else "warning-raised")
        cleared = receiver.messages("Warning cleared" if name == "email" else "warning-cleared")
        assert (len(raised), len(cleared), len(receiver.received)) == (per_channel, per_channel, 2 * per_channel), \
            (name, [m.body[:160] for m in receiver.received])
    told, ended = receivers.http.json()
    assert (told["event"], told["cause"]) == ("warning-raised", RiskCode.CERTIFICATE)
    assert told["summary"].startswith("Critical warning about the secondary: the secondary's TLS certificate")
    assert "expires in 5 days" in told["summary"] and "FLUSH SSL" in told["what_to_do"]
    assert ended["event"] == "warning-cleared" and ended["what_to_do"] == ""
    mail = receivers.smtp.messages("Warning raised")[0]
    assert mail.headers["Subject"] == "[hapanel] sandbox: Warning raised (certificate-expiry)"



# ---- the regular poll: replication that stops on an expired certificate ----------------------------------------

EXPIRED = ("Can't connect to MySQL server on '10.0.0.2' ([SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
           "failed: certificate has expired (_ssl.c:1006))")
MISMATCH = ("Can't connect to MySQL server on '10.0.0.2' ([SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed: IP address mismatch, certificate is not valid for '10.0.0.2'. (_ssl.c:1006))")
IO_2026 = ("error connecting to master 'repl@10.0.0.2:3306' - retry-time: 1  maximum-retries: 100000  message: SSL "
           "connection error: error:00000000:lib(0)::reason(0)")


def _readings(secondary_reach: Reach, secondary_error: str, flavour: str = "mariadb",
              version: str = "10.11.19-MariaDB") -> PairReadings:
    """The primary replicates from the secondary and fails TLS (2026); the monitor's view of the secondary varies."""
    def channel(io: str, errno: int, error: str) -> ReplicationChannel:
        return ReplicationChannel(source_host="10.0.0.2", source_port=3306, io_running=io, sql_running="Yes",
                                  last_io_errno=errno, last_io_error=error, seconds_behind=0, ssl_verify=True,
                                  ssl_allowed=True, connect_retry=1, heartbeat_period=1.0)
    primary = NodeReading("primary", "10.0.0.1:3306", flavour=flavour, version=version, read_only=False,
                          slave_net_timeout=3, heartbeat_written=True, channels=(channel("Connecting", 2026, IO_2026),))
    secondary = NodeReading("secondary", "10.0.0.2:3306", reach=secondary_reach,
                            errno=2003 if secondary_error else None, error=secondary_error, flavour=flavour,
                            version=version, read_only=True,
                            slave_net_timeout=3, channels=(channel("Yes", 0, ""),))
    return PairReadings(name="vault", topology="bidirectional", primary=primary, secondary=secondary)


@pytest.mark.parametrize("reach, error, cause", [
    (Reach.TLS, EXPIRED, Cause.CERTIFICATE_EXPIRED),  # the panel verifies too, and was told why
    (Reach.TLS, MISMATCH, Cause.TLS_FAILURE),  # another reason: the replica's 2026 alone does not say which
    (Reach.OK, "", Cause.TLS_FAILURE),  # the panel does not verify: it cannot tell
])
def test_replication_stopped_by_tls_names_an_expired_certificate_when_the_panel_saw_it(reach, error, cause):
    health = evaluate(_readings(reach, error))
    assert (health.ha.status, health.ha.cause) == (Status.FAILED, cause)
    assert (health.replication.status, health.replication.cause) == (Status.FAILED, cause)


@pytest.mark.parametrize("flavour, version, reload", [("mariadb", "10.11.19-MariaDB", "run FLUSH SSL on the secondary"),
                                                      ("mysql", "8.4.3", "run ALTER INSTANCE RELOAD TLS on the "
                                                                         "secondary")])
def test_the_expired_certificate_cause_says_what_to_do(flavour, version, reload):
    v = evaluate(_readings(Reach.TLS, EXPIRED, flavour, version)).replication
    assert v.summary.startswith("The secondary's TLS certificate has expired, as the panel's own handshake with it "
                                "says: the primary, which verifies it, cannot replicate from it (secondary→primary)")
    assert reload in v.remediation and "The primary reconnects by itself" in v.remediation
    assert v.evidence["source_error"] == EXPIRED and v.evidence["last_io_errno"] == 2026


def test_an_expired_certificate_stops_replication_and_says_so(sandbox_pair, healthy):
    """The secondary's certificate expired; the primary's replication reconnects (as after any network blip) and
    fails TLS. The poll names the cause; the checkup, whose login fails on the certificate too, still reads it."""
    pid = sandbox_pair.pk
    try:
        with serving(healthy, "secondary", days=-1):
            healthy.sql("primary", "STOP SLAVE IO_THREAD", "START SLAVE IO_THREAD")
            wait_for(lambda: healthy.replica_status("primary").get("Last_IO_Errno") == 2026, 10, "TLS error 2026")
            result = poller.poll(Pair.objects.get(pk=pid))
            for verdict in (result.health.ha, result.health.replication):
                assert (verdict.status, verdict.cause) == (Status.FAILED, Cause.CERTIFICATE_EXPIRED), verdict
                assert "run FLUSH SSL on the secondary" in verdict.remediation
            checkups.checkup(pid)
            risk = _open(pid)
            assert risk.severity == "critical" and " expired 1 day ago, on " in risk.summary, risk.summary
            assert risk.evidence["seen"] == (f"a TLS handshake with 127.0.0.1:{healthy.secondary.port} that only reads "
                                             "it (the panel's login failed on TLS)")
        wait_for(lambda: healthy.replica_status("primary").get("Slave_IO_Running") == "Yes", 15,
                 "the primary to replicate from the secondary again")

        def alive() -> bool:
            health = poller.poll(Pair.objects.get(pk=pid)).health
            return health.ha.status == health.replication.status == Status.ALIVE
        wait_for(alive, 15, "both statuses Alive again")
        checkups.checkup(pid)
        assert _open(pid) is None
    finally:
        healthy.sql("primary", "START SLAVE")  # a no-op unless the test stopped half-way
