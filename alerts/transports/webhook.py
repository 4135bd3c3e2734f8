"""Webhook: a JSON POST with a Slack/Teams-compatible `text`, signed with HMAC-SHA256 when a secret is set."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from alerts.transports import Transport, TransportError

# Client errors a retry can fix: the server is busy or timed out waiting for us.
RETRYABLE_4XX = {408, 425, 429}


def body(message) -> bytes:
    payload = {
        "text": message.text(),  # Slack and Teams incoming webhooks show this field
        "event": message.event, "title": message.title, "pair": message.pair,
        "status": message.status_kind, "old": message.old_status, "new": message.new_status,
        "cause": message.cause, "summary": message.summary, "evidence": message.evidence,
        "detected_at": message.detected_at.isoformat() if message.detected_at else None,
        "previous_lasted_seconds": message.previous_lasted, "url": message.url,
        "notification": message.notification_id,
    }
    return json.dumps(payload, default=str).encode()


def signature(secret: str, data: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


class WebhookTransport(Transport):
    def send(self, message) -> None:
        data = body(message)
        headers = {"Content-Type": "application/json", "User-Agent": "hapanel"}
        if self.config.get("secret"):
            headers["X-Hapanel-Signature"] = signature(self.config["secret"], data)
        request = urllib.request.Request(self.config["url"], data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(1024)
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in RETRYABLE_4XX
            raise TransportError(f"HTTP {exc.code} {exc.reason}", permanent=permanent) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TransportError(f"{self.config['url']}: {getattr(exc, 'reason', exc)}") from exc


TRANSPORT = WebhookTransport
