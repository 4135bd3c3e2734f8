"""SNMP v2c or v3 trap (pysnmp 7, asyncio); the varbinds are documented in docs/HAPANEL-MIB.txt."""

from __future__ import annotations

import asyncio
import time
import unicodedata

from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.proto.rfc1902 import OctetString, Unsigned32

from alerts.transports import Transport, TransportError, failure_class

HAPANEL = "1.3.6.1.4.1.32473.42"  # enterprises.32473 is RFC 5612's documentation number; see the MIB
TRAPS = {"flapping": 2, "stable": 3, "test": 4}  # everything else: hapanelStatusChange (1)
OBJECTS = ["pair", "event", "status_kind", "old_status", "new_status", "cause", "summary", "evidence",
           "detected_at", "previous_lasted", "url"]  # hapanelObjects.1 ... .11, in this order
AUTH = {"MD5": hl.usmHMACMD5AuthProtocol, "SHA": hl.usmHMACSHAAuthProtocol,
        "SHA256": hl.usmHMAC192SHA256AuthProtocol, "SHA512": hl.usmHMAC384SHA512AuthProtocol}
PRIV = {"none": hl.usmNoPrivProtocol, "DES": hl.usmDESPrivProtocol, "AES": hl.usmAesCfb128Protocol,
        "AES256": hl.usmAesCfb256Protocol}


# sysUpTime of the traps: since this process started (pysnmp's engine would count from each trap's own engine).
STARTED = time.time()
# Displayed as text only when ASCII: a receiver without the MIB shows anything else as a Hex-STRING.
_ASCII = str.maketrans({"→": "->", "←": "<-", "…": "...", "–": "-", "—": "-", "“": '"', "”": '"', "‘": "'",
                        "’": "'", "·": "-", "\u00a0": " "})


def ascii_text(value: str) -> str:
    """`value` in printable ASCII: arrows and dashes spelled out, accents dropped, anything else as `?`."""
    plain = unicodedata.normalize("NFKD", value.translate(_ASCII))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return "".join(ch if " " <= ch <= "~" else ("?" if ord(ch) > 127 else " ") for ch in plain)


def trap_oid(event: str) -> str:
    return f"{HAPANEL}.0.{TRAPS.get(event, 1)}"


def varbinds(message) -> list[hl.ObjectType]:
    values = {
        **{name: getattr(message, name, "") for name in OBJECTS},
        "evidence": "; ".join(message.evidence_lines()),
        "detected_at": message.detected_at.isoformat(timespec="seconds") if message.detected_at else "",
        "previous_lasted": int(message.previous_lasted or 0),
    }
    binds = []
    for i, name in enumerate(OBJECTS, start=1):
        value = values[name]
        limit = 1024 if name in ("summary", "evidence") else 255  # the SIZE of each object in the MIB
        syntax = (Unsigned32(value) if name == "previous_lasted"
                  else OctetString(ascii_text(str(value or "")).encode()[:limit]))
        binds.append(hl.ObjectType(hl.ObjectIdentity(f"{HAPANEL}.1.{i}.0"), syntax))
    return binds


class SnmpTransport(Transport):
    def send(self, message) -> None:
        try:
            error = asyncio.run(self._send(message))
        except TransportError:
            raise
        except Exception as exc:  # noqa: BLE001 (pysnmp raises many kinds; all mean "not sent")
            raise TransportError(f"SNMP {self.config.get('host')}:{self.config.get('port')}: "
                                 f"{failure_class(exc)}") from None
        if error:
            raise TransportError(f"SNMP {self.config.get('host')}:{self.config.get('port')}: {error}")

    async def _send(self, message):
        c = self.config
        engine = hl.SnmpEngine(OctetString(hexValue=c["engine_id"])) if c.get("engine_id") else hl.SnmpEngine()
        (uptime,) = engine.get_mib_builder().import_symbols("__SNMPv2-MIB", "sysUpTime")
        uptime.syntax.createdAt = STARTED
        try:
            target = await hl.UdpTransportTarget.create((c["host"], int(c.get("port") or 162)),
                                                        timeout=self.timeout, retries=0)
            trap = hl.NotificationType(hl.ObjectIdentity(trap_oid(message.event))).add_varbinds(*varbinds(message))
            error, _status, _index, _binds = await hl.send_notification(
                engine, self._auth(), target, hl.ContextData(), "trap", trap)
            return error
        finally:
            engine.close_dispatcher()

    def _auth(self):
        c = self.config
        if c.get("version", "2c") == "2c":
            return hl.CommunityData(c.get("community") or "public", mpModel=1)
        priv = c.get("priv_protocol") or "none"
        return hl.UsmUserData(
            c["user"], authKey=c.get("auth_key") or None,
            privKey=(c.get("priv_key") or None) if priv != "none" else None,
            authProtocol=AUTH[c.get("auth_protocol") or "SHA"] if c.get("auth_key") else hl.usmNoAuthProtocol,
            privProtocol=PRIV[priv],
        )


TRANSPORT = SnmpTransport
