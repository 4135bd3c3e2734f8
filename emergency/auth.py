"""Emergency login against the secondary's vault users: lockout, constant-time answers, TOTP replay.

Failed-attempt counts come from the outbox itself (the login-failed events), and TOTP replay state
from TotpUse: both in the panel's own database, nothing written to a monitored server.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from emergency import crypto, reader
from emergency.models import OutboxEvent, TotpUse
from monitor.models import Pair

WRONG = "Wrong user name, password or code."
LOCKED = "locked out"  # the audit detail of an attempt refused by the lockout: it does not count as a failure


def subject(username: str) -> str:
    """The user name as the vault's case- and accent-insensitive collation compares it: `ALICE`, `Alice` and
    `alicé` log in as the same vault user, so they must share one failure count."""
    decomposed = unicodedata.normalize("NFKD", username.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class Outcome:
    user: dict | None
    error: str = ""
    detail: str = ""  # for the audit trail, never shown


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return make_password("not a real password, only spends the same time")


def locked_until(pair: Pair, username: str, client_addr: str) -> dt.datetime | None:
    """When the user or the address may try again, if either had too many failures in the window."""
    window = dt.timedelta(minutes=settings.EMERGENCY_LOCKOUT_MINUTES)
    now = timezone.now()
    who = subject(username)
    events = OutboxEvent.objects.filter(pair=pair, at__gt=now - window)
    last_ok = events.filter(operation=OutboxEvent.LOGIN, subject=who).aggregate(t=Max("at"))["t"]
    # Attempts refused while locked are audited but not counted: counting them would extend the lock forever.
    failures = events.filter(operation=OutboxEvent.LOGIN_FAILED).exclude(detail=LOCKED)
    by_user = failures.filter(subject=who)
    if last_ok:
        by_user = by_user.filter(at__gt=last_ok)  # a successful login clears the user's count
    by_addr = failures.filter(client_addr=client_addr)
    until = None
    for failures in (by_user, by_addr):
        times = list(failures.order_by("-at").values_list("at", flat=True)[:settings.EMERGENCY_LOCKOUT_FAILURES])
        if len(times) >= settings.EMERGENCY_LOCKOUT_FAILURES:
            until = max(until or times[-1], times[-1] + window)
    return until


def _totp_ok(pair: Pair, username: str, secret: str, code: str) -> bool:
    totp, now = pyotp.TOTP(secret), time.time()
    step = int(now // totp.interval)
    for candidate in (step, step - 1, step + 1):
        if code and totp.at(candidate * totp.interval) == code.strip():
            try:
                with transaction.atomic():
                    TotpUse.objects.create(pair=pair, username=username, step=candidate)
            except IntegrityError:
                return False  # this code was already used: a replay
            return True
    return False


def authenticate(conn, pair: Pair, schema: str, username: str, password: str, code: str,
                 client_addr: str) -> Outcome:
    until = locked_until(pair, username, client_addr)
    if until is not None:
        when = timezone.localtime(until).strftime("%H:%M:%S %Z")
        return Outcome(None, f"Too many failed attempts for this user or address: try again after {when}.",
                       LOCKED)
    user = reader.find_user(conn, schema, username)
    if user is None:
        check_password(password, _dummy_hash())  # the same work as for a real user: no timing oracle
        return Outcome(None, WRONG, "unknown user")
    if not check_password(password, user["password_hash"]):
        return Outcome(None, WRONG, "wrong password")
    if not user["active"]:
        return Outcome(None, WRONG, "inactive user")
    if user["totp_secret"] and not _totp_ok(pair, username, crypto.decrypt(user["totp_secret"]), code):
        return Outcome(None, WRONG, "wrong or replayed code")
    return Outcome(user)
