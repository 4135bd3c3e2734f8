"""Email through Django's email backend (EMAIL_* settings from the environment)."""

from __future__ import annotations

import re
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from alerts.transports import Transport, TransportError, failure_class

# Control characters (CR and LF above all) and Unicode line and paragraph separators: in a header they would
# end it and start another, whatever a pair's name holds.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def header_text(value: str) -> str:
    """One header line: every run of control characters becomes a single space."""
    return _BREAKS.sub(" ", value).strip()


class EmailTransport(Transport):
    def send(self, message) -> None:
        recipients = self.config.get("recipients") or []
        if not recipients:
            raise TransportError("no recipients", permanent=True)
        mail = EmailMessage(header_text(message.subject), message.text(), settings.DEFAULT_FROM_EMAIL, recipients,
                            connection=get_connection(timeout=self.timeout))
        if message.notification_id:
            mail.extra_headers["X-Hapanel-Notification"] = str(message.notification_id)
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipients refused: {_codes(exc.recipients)}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx: the server will say no again; 4xx: try later. The code only: the server's text is its own.
            raise TransportError(f"SMTP {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: {failure_class(exc)}") from exc


def _codes(refused: dict) -> str:
    return ", ".join(f"{addr} ({code})" for addr, (code, _msg) in refused.items())


TRANSPORT = EmailTransport
