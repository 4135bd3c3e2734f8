"""What every rule module shares: reading a server's values, and the words of a remediation line. Pure."""

from __future__ import annotations

from monitor import causes
from monitor.risks.checkup import NodeCheckup, Risk
from monitor.vocabulary import Severity

ON = {"1", "on", "yes", "true"}
OFF = {"0", "off", "no", "false"}


class Unreadable(ValueError):
    """A server value a rule cannot interpret: the rule says it cannot judge, with this reason."""


def flag(node: NodeCheckup, *names: str) -> bool | None:
    """An ON/OFF variable as a bool; None when the server has none of these names."""
    value = node.var(*names)
    if value is None:
        return None
    word = value.strip().lower()
    if word in ON:
        return True
    if word in OFF:
        return False
    raise Unreadable(f"{names[0]}={value!r:.40} is neither ON nor OFF")


def number(node: NodeCheckup, *names: str) -> float | None:
    value = node.var(*names)
    if value is None or value.strip() == "":
        return None
    try:
        out = float(value)
    except ValueError:
        raise Unreadable(f"{names[0]}={value!r:.40} is not a number") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise Unreadable(f"{names[0]}={value!r:.40} is not a finite number")
    return out


def words(server: NodeCheckup, **ctx: object) -> dict:
    """The fields of a remediation template, in the words of this node's flavour and version."""
    return {**causes.server_words(server.flavour, server.version), **ctx}


def risk(code: str, severity: Severity, subject: str, summary: str, remediation: str, server: NodeCheckup,
         evidence: dict, nodes: tuple[str, ...], **ctx: object) -> Risk:
    """A Risk with its remediation template filled in the syntax of `server`, the node it is to be run on."""
    filled = words(server, **ctx)
    return Risk(code, severity, subject, causes.render(summary, filled), causes.render(remediation, filled),
                evidence, nodes)
