"""Admin forms: a channel (per-kind fields, checked field by field) and the routing grid."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from django import forms
from django.core.validators import validate_email

from alerts.models import EVENTS, Channel, Route
from alerts.transports.snmp import AUTH, PRIV
from alerts.transports.syslog import FACILITIES
from monitor.models import Pair

HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")

# Per kind: the form fields it uses, each stored in Channel.config under the name after the prefix.
KIND_FIELDS = {
    Channel.EMAIL: ["email_recipients"],
    Channel.SNMP: ["snmp_version", "snmp_host", "snmp_port", "snmp_community", "snmp_user", "snmp_auth_protocol",
                   "snmp_auth_key", "snmp_priv_protocol", "snmp_priv_key", "snmp_engine_id"],
    Channel.SYSLOG: ["syslog_protocol", "syslog_host", "syslog_port", "syslog_path", "syslog_facility",
                     "syslog_ca_cert"],
    Channel.WEBHOOK: ["webhook_url", "webhook_secret"],
}


def _key(field: str) -> str:
    return field.split("_", 1)[1]


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=Channel.KINDS)
    name = forms.CharField(max_length=100)
    enabled = forms.BooleanField(required=False, initial=True)

    email_recipients = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text="addresses, one a line or comma-separated")

    snmp_version = forms.ChoiceField(choices=[("2c", "v2c"), ("3", "v3")], required=False, initial="2c")
    snmp_host = forms.CharField(required=False, label="Trap receiver host")
    snmp_port = forms.IntegerField(required=False, min_value=1, max_value=65535, initial=162)
    snmp_community = forms.CharField(required=False, initial="public", help_text="v2c")
    snmp_user = forms.CharField(required=False, help_text="v3 user")
    snmp_auth_protocol = forms.ChoiceField(choices=[(k, k) for k in AUTH], required=False, initial="SHA")
    snmp_auth_key = forms.CharField(required=False, min_length=8, help_text="v3, at least 8 characters")
    snmp_priv_protocol = forms.ChoiceField(choices=[(k, k) for k in PRIV], required=False, initial="AES")
    snmp_priv_key = forms.CharField(required=False, min_length=8)
    snmp_engine_id = forms.RegexField(regex=r"^([0-9A-Fa-f]{2}){5,32}$", required=False,
                                      help_text="v3: hex, the engine ID the receiver's createUser -e names")

    syslog_protocol = forms.ChoiceField(choices=[("udp", "UDP"), ("tcp", "TCP"), ("tls", "TLS"),
                                                 ("unix", "local socket")], required=False, initial="udp")
    syslog_host = forms.CharField(required=False)
    syslog_port = forms.IntegerField(required=False, min_value=1, max_value=65535, initial=514)
    syslog_path = forms.CharField(required=False, initial="/dev/log", help_text="local socket only")
    syslog_facility = forms.ChoiceField(choices=[(f, f) for f in FACILITIES], required=False, initial="daemon")
    syslog_ca_cert = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                     help_text="TLS: PEM of the CA (empty: the system's)")

    webhook_url = forms.URLField(required=False, assume_scheme="https")
    webhook_secret = forms.CharField(required=False, help_text="signs the body: X-Hapanel-Signature: sha256=…")

    def __init__(self, *args, channel: Channel | None = None, **kwargs) -> None:
        if channel is not None and not kwargs.get("initial"):
            initial = {"kind": channel.kind, "name": channel.name, "enabled": channel.enabled}
            for field in KIND_FIELDS[channel.kind]:
                value = channel.config.get(_key(field))
                initial[field] = "\n".join(value) if isinstance(value, list) else value
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        data = super().clean()
        check = getattr(self, f"_clean_{data.get('kind')}", None)
        if check:
            check(data)
        return data

    def _require(self, data: dict, *fields: str) -> None:
        for field in fields:
            if data.get(field) in (None, "") and field not in self.errors:
                self.add_error(field, "Required for this kind of channel.")

    def _clean_email(self, data: dict) -> None:
        raw = [a.strip() for a in re.split(r"[,\s]+", data.get("email_recipients") or "") if a.strip()]
        bad = []
        for address in raw:
            try:
                validate_email(address)
            except forms.ValidationError:
                bad.append(address)
        if bad:
            self.add_error("email_recipients", f"Not an email address: {', '.join(bad)}")
        elif not raw:
            self.add_error("email_recipients", "Give at least one address.")
        data["email_recipients"] = raw

    def _clean_snmp(self, data: dict) -> None:
        self._require(data, "snmp_host", "snmp_port")
        if data.get("snmp_host") and not HOST_RE.match(data["snmp_host"]):
            self.add_error("snmp_host", "A host name or an IP address.")
        if data.get("snmp_version") == "3":
            self._require(data, "snmp_user", "snmp_engine_id")
            if data.get("snmp_priv_protocol", "none") != "none":
                self._require(data, "snmp_auth_key", "snmp_priv_key")
        else:
            self._require(data, "snmp_community")

    def _clean_syslog(self, data: dict) -> None:
        if data.get("syslog_protocol") == "unix":
            self._require(data, "syslog_path")
            return
        self._require(data, "syslog_host", "syslog_port")
        if data.get("syslog_host") and not HOST_RE.match(data["syslog_host"]):
            self.add_error("syslog_host", "A host name or an IP address.")
        if data.get("syslog_ca_cert") and "BEGIN CERTIFICATE" not in data["syslog_ca_cert"]:
            self.add_error("syslog_ca_cert", "Paste the CA certificate in PEM (-----BEGIN CERTIFICATE-----).")

    def _clean_webhook(self, data: dict) -> None:
        self._require(data, "webhook_url")
        url = data.get("webhook_url") or ""
        if url and urlparse(url).scheme not in ("http", "https"):
            self.add_error("webhook_url", "An http:// or https:// URL.")

    def save(self, channel: Channel | None = None) -> Channel:
        data = self.cleaned_data
        channel = channel or Channel()
        channel.kind, channel.name, channel.enabled = data["kind"], data["name"], data["enabled"]
        channel.config = {_key(f): data[f] for f in KIND_FIELDS[channel.kind] if data.get(f) not in (None, "")}
        channel.save()
        return channel


class RoutingForm(forms.Form):
    """Events × channels, for one pair or for all pairs: the guide's "select the mode of alert for each event"."""

    def __init__(self, *args, pair: Pair | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pair = pair
        self.channels = list(Channel.objects.all())
        on = set(Route.objects.filter(pair=pair).values_list("event", "channel_id"))
        self.grid = []
        for event, title in EVENTS:
            row = []
            for channel in self.channels:
                name = f"{event}__{channel.pk}"
                self.fields[name] = forms.BooleanField(required=False, initial=(event, channel.pk) in on,
                                                       label=f"{title} → {channel.name}")
                row.append(self[name])
            self.grid.append((title, row))

    def save(self) -> int:
        wanted = {(event, c.pk) for event, _ in EVENTS for c in self.channels
                  if self.cleaned_data.get(f"{event}__{c.pk}")}
        Route.objects.filter(pair=self.pair).delete()
        Route.objects.bulk_create([Route(event=e, channel_id=c, pair=self.pair) for e, c in sorted(wanted)])
        return len(wanted)
