"""The dead man's switch: while the monitor runs, it tells an outside system so every few seconds.

An outside monitor (a healthchecks.io check, a cron watchdog) then knows when this one stops, which
this one can never say itself. Pinged only while the dispatcher ticks and a worker runs the polls.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit


def ping(url: str, timeout: float, body: str) -> str:
    """POSTs `body` to `url`; returns "ok" or the class of the failure (never the other side's text)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return "not pinged: the dead man's switch URL must be http or https"
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "text/plain; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            return "ok" if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except TimeoutError:
        return "timed out"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return "refused" if isinstance(reason, ConnectionRefusedError) else f"failed ({type(reason).__name__})"
