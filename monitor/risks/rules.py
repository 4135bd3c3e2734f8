"""Warnings before failures: a pair's checkup -> its `Risk`s. Pure: no Django, no sockets, no clock.

Each rule is a function of the `PairCheckup`, listed in `RULES` under the code it raises. A rule that meets a
value it cannot interpret says so as an `unknown` warning with the reason; it never raises, and the other rules
still run.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor import causes
from monitor.risks import certificates, errant, horizon, lint
from monitor.risks.checkup import Assessment, PairCheckup, Risk
from monitor.vocabulary import RiskCode, Severity

Rule = Callable[[PairCheckup], list[Risk]]

RULES: dict[str, Rule] = {
    RiskCode.BINLOG_HORIZON: horizon.horizon,
    RiskCode.BINLOG_PURGED: horizon.purged,
    RiskCode.ERRANT_TRANSACTIONS: errant.errant,
    RiskCode.CERTIFICATE: certificates.expiry,
    **lint.RULES,
}

_CANNOT = ("Check the evidence and the server version; report the raw values if the server is a supported "
           "MySQL/MariaDB.")


def assess(checkup: PairCheckup, rules: dict[str, Rule] | None = None) -> Assessment:
    """Every rule's warnings for this checkup, and the nodes it could not read (whose warnings stand as they were)."""
    out: list[Risk] = []
    for code, rule in (RULES if rules is None else rules).items():
        try:
            out += rule(checkup)
        except Exception as exc:  # noqa: BLE001 (design §5: a bad server answer is a reason, never a crash)
            detail = f"{type(exc).__name__}: {exc}"[:300]
            out.append(Risk(RiskCode.UNREADABLE, Severity.UNKNOWN, code,
                            causes.render("cannot judge {code}: {detail}", {"code": code, "detail": detail}),
                            _CANNOT, {"rule": code, "error": detail}, ("primary", "secondary")))
    blind = frozenset(n.role for n in (checkup.primary, checkup.secondary) if not n.read)
    return Assessment(list({r.key: r for r in out}.values()), blind)
