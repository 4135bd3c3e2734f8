"""Syslog, RFC 5424, over UDP, TCP or TLS (octet-counted framing, RFC 6587/5425), or the local socket."""

from __future__ import annotations

import socket
import ssl

from django.utils import timezone

from alerts.transports import Transport, TransportError, failure_class

FACILITIES = {name: code for code, name in enumerate(
    ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp"])}
FACILITIES.update({f"local{i}": 16 + i for i in range(8)})
SEVERITIES = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
SD_ID = "hapanel@32473"  # 32473: the enterprise number RFC 5612 sets aside for documentation


def _sd_value(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _field(value: str, limit: int) -> str:
    """Header fields: printable US-ASCII without spaces, or the nil value."""
    clean = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return clean or "-"


def format_5424(message, facility: str, hostname: str | None = None) -> bytes:
    pri = FACILITIES[facility] * 8 + SEVERITIES[message.severity]
    stamp = timezone.now().isoformat(timespec="microseconds")
    params = {"pair": message.pair, "event": message.event, "status": message.status_kind,
              "old": message.old_status, "new": message.new_status, "cause": message.cause}
    sd = "[" + SD_ID + "".join(f' {k}="{_sd_value(v)}"' for k, v in params.items() if v) + "]"
    host = _field(hostname or socket.gethostname(), 255)
    return f"<{pri}>1 {stamp} {host} hapanel - {_field(message.event, 32)} {sd} {message.one_line()}".encode()


class SyslogTransport(Transport):
    def send(self, message) -> None:
        c = self.config
        proto, facility = c.get("protocol", "udp"), c.get("facility", "daemon")
        data = format_5424(message, facility)
        where = (f"{proto} {c.get('path') or '/dev/log'}" if proto == "unix"
                 else f"{proto} {c.get('host')}:{c.get('port')}")
        try:
            if proto == "unix":
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                    s.settimeout(self.timeout)
                    s.connect(c.get("path") or "/dev/log")
                    s.send(data)
            elif proto == "udp":
                with socket.socket(_family(c["host"]), socket.SOCK_DGRAM) as s:
                    s.settimeout(self.timeout)
                    s.sendto(data, (c["host"], int(c["port"])))
            else:
                self._stream(data, proto == "tls")
        except ssl.SSLCertVerificationError as exc:
            raise TransportError(f"syslog {where}: {failure_class(exc)}", permanent=True) from None
        except (OSError, UnicodeError) as exc:
            raise TransportError(f"syslog {where}: {failure_class(exc)}") from None

    def _stream(self, data: bytes, tls: bool) -> None:
        c = self.config
        framed = b"%d " % len(data) + data  # octet counting: a message may hold newlines
        with socket.create_connection((c["host"], int(c["port"])), timeout=self.timeout) as raw:
            if not tls:
                raw.sendall(framed)
                return
            try:
                ctx = ssl.create_default_context(cadata=c.get("ca_cert") or None)
            except (ssl.SSLError, ValueError, TypeError) as exc:
                # cadata must be ASCII PEM: anything else is the channel's configuration, not the network.
                raise TransportError("syslog TLS: the CA certificate cannot be read as PEM", permanent=True) from exc
            with ctx.wrap_socket(raw, server_hostname=c["host"]) as sock:
                sock.sendall(framed)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


TRANSPORT = SyslogTransport
