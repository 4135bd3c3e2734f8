"""docs/HAPANEL-MIB.txt is accepted by Net-SNMP and names exactly the OIDs the SNMP transport sends."""

from __future__ import annotations

import os
import subprocess

from alerts.transports.snmp import HAPANEL, OBJECTS, TRAPS
from tests.receivers import IETF_MIB_DIRS, MIB_DIR


def snmptranslate(*args: str) -> subprocess.CompletedProcess:
    dirs = ":".join(str(d) for d in [*IETF_MIB_DIRS, MIB_DIR])
    return subprocess.run(["snmptranslate", "-m", "+HAPANEL-MIB", "-M", f"+{dirs}", *args], capture_output=True,
                          text=True, timeout=30, env={**os.environ, "MIBS": ""})


def test_mib_parses_without_errors():
    result = snmptranslate("-On", "HAPANEL-MIB::hapanelStatusChange")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f".{HAPANEL}.0.1"
    assert "HAPANEL-MIB" not in result.stderr, result.stderr  # no warning about our module


def test_mib_names_every_varbind_and_trap():
    names = ["hapanelPairName", "hapanelEvent", "hapanelStatusKind", "hapanelOldStatus", "hapanelNewStatus",
             "hapanelCause", "hapanelSummary", "hapanelEvidence", "hapanelDetectedAt", "hapanelPreviousDuration",
             "hapanelPairUrl"]
    assert len(names) == len(OBJECTS)
    for i, name in enumerate(names, start=1):
        assert snmptranslate(f".{HAPANEL}.1.{i}.0").stdout.strip() == f"HAPANEL-MIB::{name}.0"
    traps = {"hapanelFlapping": TRAPS["flapping"], "hapanelStable": TRAPS["stable"], "hapanelTest": TRAPS["test"]}
    for name, number in traps.items():
        assert snmptranslate("-On", f"HAPANEL-MIB::{name}").stdout.strip() == f".{HAPANEL}.0.{number}"
