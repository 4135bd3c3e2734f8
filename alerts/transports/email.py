"""Email through Django's email backend (EMAIL_* settings from the environment)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from alerts.transports import Transport, TransportError


class EmailTransport(Transport):
    def send(self, message) -> None:
        recipients = self.config.get("recipients") or []
        if not recipients:
            raise TransportError("no recipients", permanent=True)
        mail = EmailMessage(message.subject, message.text(), settings.DEFAULT_FROM_EMAIL, recipients,
                            connection=get_connection(timeout=self.timeout))
        if message.notification_id:
            mail.extra_headers["X-Hapanel-Notification"] = str(message.notification_id)
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipients refused: {_codes(exc.recipients)}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx: the server will say no again; 4xx: try later.
            raise TransportError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}",
                                 permanent=500 <= exc.smtp_code < 600) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: {exc}") from exc


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _codes(refused: dict) -> str:
    return ", ".join(f"{addr} ({code} {_text(msg)})" for addr, (code, msg) in refused.items())


TRANSPORT = EmailTransport
