"""Webhook: a JSON POST with a Slack/Teams-compatible `text`, signed with HMAC-SHA256 when a secret is set."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from http import HTTPStatus
from urllib.parse import urlsplit

from alerts.transports import Transport, TransportError, failure_class, mask_url

# Client errors a retry can fix: the server is busy or timed out waiting for us.
RETRYABLE_4XX = {408, 425, 429}


def body(message) -> bytes:
    payload = {
        "text": message.text(),  # Slack and Teams incoming webhooks show this field
        "event": message.event, "title": message.title, "pair": message.pair,
        "status": message.status_kind, "old": message.old_status, "new": message.new_status,
        "cause": message.cause, "summary": message.summary, "what_to_do": message.what_to_do,
        "evidence": message.evidence,
        "detected_at": message.detected_at.isoformat() if message.detected_at else None,
        "previous_lasted_seconds": message.previous_lasted, "url": message.url,
        "notification": message.notification_id, "may_repeat": message.maybe_repeat,
    }
    return json.dumps(payload, default=str).encode()


def signature(secret: str, data: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: urllib would turn the POST into a GET elsewhere, without the body and with
    the signature meant for this URL. The 3xx comes back as an HTTPError and fails the delivery."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 (urllib's signature)
        return None


# Only HTTP(S) handlers (and no redirects): a stored URL can never make the panel read a file or FTP.
_OPENER = urllib.request.OpenerDirector()
for _handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(), urllib.request.HTTPSHandler(),
                 urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor(), _NoRedirect()):
    _OPENER.add_handler(_handler)


def http_failure(code: int) -> TransportError:
    """An HTTP status as a failure: the status and its standard phrase, never what the target wrote."""
    try:
        phrase = f" {HTTPStatus(code).phrase}"
    except ValueError:
        phrase = ""
    if 300 <= code < 400:
        return TransportError(f"HTTP {code}{phrase}: redirects are not followed; give the final URL",
                              permanent=True)
    permanent = 400 <= code < 500 and code not in RETRYABLE_4XX
    return TransportError(f"HTTP {code}{phrase}", permanent=permanent)


class WebhookTransport(Transport):
    def send(self, message) -> None:
        url = self.config["url"]
        where = f"webhook {mask_url(url)}"
        if urlsplit(url).scheme not in ("http", "https"):
            raise TransportError(f"{where}: not an http:// or https:// URL", permanent=True)
        data = body(message)
        headers = {"Content-Type": "application/json", "User-Agent": "hapanel"}
        if message.notification_id is not None:
            # The same on every try of one notification: a receiver can drop what it already has.
            headers["X-Hapanel-Delivery"] = str(message.notification_id)
        if self.config.get("secret"):
            headers["X-Hapanel-Signature"] = signature(self.config["secret"], data)
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                response.read(1024)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise http_failure(exc.code) from exc
        except urllib.error.URLError as exc:
            reason = exc.reason if isinstance(exc.reason, BaseException) else exc
            raise TransportError(f"{where}: {failure_class(reason)}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise TransportError(f"{where}: {failure_class(exc)}") from None


TRANSPORT = WebhookTransport
