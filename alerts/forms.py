"""Admin forms: a channel (per-kind fields, checked field by field) and the routing grid."""

from __future__ import annotations

import ipaddress
import re
import ssl
import unicodedata
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from alerts.models import EVENTS, ON_BY_DEFAULT, Channel, Route
from alerts.transports.snmp import AUTH, PRIV
from alerts.transports.syslog import FACILITIES
from hapanel import encryption
from monitor.models import Pair

# One label of an RFC 1123 host name: letters, digits and inner hyphens, 1 to 63 of them.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Bidirectional embeddings, overrides and isolates: they make a name read differently from what it is.
_BIDI = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}
STORED_HINT = "stored — leave empty to keep"
MOVED = "The destination changed: enter the secret again (a stored secret is only sent where it was stored for)."


def valid_host(value: str) -> bool:
    """An IPv4 or IPv6 address, or an RFC 1123 host name; nothing around it (no blank, no newline)."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    name = value.removesuffix(".")  # the root's dot of a fully qualified name
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    return not labels[-1].isdigit()  # all digits at the end (256.1.1.1): an address, and not a valid one


def validate_host(value: str) -> None:
    if not valid_host(value):
        raise ValidationError("A host name or an IP address.")


def validate_plain_text(value: str) -> None:
    """No control characters (newlines, NUL, escapes) and no text-direction overrides."""
    if any(unicodedata.category(c) == "Cc" or ord(c) in _BIDI for c in value):
        raise ValidationError("No control characters (such as line breaks) or text-direction overrides.")


def pem_problem(text: str) -> str:
    """Why this CA cannot be used for TLS ("" when it can), checked as the syslog transport will load it."""
    if not text.isascii():
        return "A PEM certificate holds ASCII text only: paste it as exported (-----BEGIN CERTIFICATE-----)."
    try:
        ssl.create_default_context(cadata=text)
    except (ssl.SSLError, ValueError, TypeError):
        return "Paste the CA certificate in PEM (-----BEGIN CERTIFICATE-----)."
    return ""


def destination(kind: str, config: dict) -> tuple:
    """Where a channel's secrets go: a change of it needs the secrets entered again."""
    if kind == Channel.WEBHOOK:
        try:
            parts = urlsplit(config.get("url") or "")
            return parts.scheme, parts.hostname, parts.port
        except ValueError:
            return ("?",)
    if kind == Channel.SNMP:
        return config.get("host"), int(config.get("port") or 162)
    return ()

# Per kind: the form fields it uses, each stored in Channel.config under the name after the prefix.
KIND_FIELDS = {
    Channel.EMAIL: ["email_recipients"],
    Channel.SNMP: ["snmp_version", "snmp_host", "snmp_port", "snmp_community", "snmp_user", "snmp_auth_protocol",
                   "snmp_auth_key", "snmp_priv_protocol", "snmp_priv_key", "snmp_engine_id"],
    Channel.SYSLOG: ["syslog_protocol", "syslog_host", "syslog_port", "syslog_path", "syslog_facility",
                     "syslog_ca_cert"],
    Channel.WEBHOOK: ["webhook_url", "webhook_secret"],
}


# The write-only fields: their config keys are kept encrypted (Channel.transport_config decrypts them).
SECRET_FIELDS = {"webhook_secret", "snmp_auth_key", "snmp_priv_key"}


def _key(field: str) -> str:
    return field.split("_", 1)[1]


def _secret_input() -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=Channel.KINDS)
    name = forms.CharField(max_length=100, validators=[validate_plain_text])
    enabled = forms.BooleanField(required=False, initial=True)

    email_recipients = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text="addresses, one a line or comma-separated")

    snmp_version = forms.ChoiceField(choices=[("2c", "v2c"), ("3", "v3")], required=False, initial="2c")
    snmp_host = forms.CharField(required=False, strip=False, label="Trap receiver host")
    snmp_port = forms.IntegerField(required=False, min_value=1, max_value=65535, initial=162)
    snmp_community = forms.CharField(required=False, initial="public", help_text="v2c")
    snmp_user = forms.CharField(required=False, help_text="v3 user")
    snmp_auth_protocol = forms.ChoiceField(choices=[(k, k) for k in AUTH], required=False, initial="SHA")
    snmp_auth_key = forms.CharField(required=False, min_length=8, help_text="v3, at least 8 characters",
                                    widget=_secret_input())
    snmp_priv_protocol = forms.ChoiceField(choices=[(k, k) for k in PRIV], required=False, initial="AES")
    snmp_priv_key = forms.CharField(required=False, min_length=8, widget=_secret_input())
    snmp_engine_id = forms.RegexField(regex=r"^([0-9A-Fa-f]{2}){5,32}$", required=False,
                                      help_text="v3: hex, the engine ID the receiver's createUser -e names")

    syslog_protocol = forms.ChoiceField(choices=[("udp", "UDP"), ("tcp", "TCP"), ("tls", "TLS"),
                                                 ("unix", "local socket")], required=False, initial="udp")
    syslog_host = forms.CharField(required=False, strip=False)
    syslog_port = forms.IntegerField(required=False, min_value=1, max_value=65535, initial=514)
    syslog_path = forms.CharField(required=False, initial="/dev/log", help_text="local socket only")
    syslog_facility = forms.ChoiceField(choices=[(f, f) for f in FACILITIES], required=False, initial="daemon")
    syslog_ca_cert = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                     help_text="TLS: PEM of the CA (empty: the system's)")

    webhook_url = forms.URLField(required=False, assume_scheme="https")
    webhook_secret = forms.CharField(required=False, help_text="signs the body: X-Hapanel-Signature: sha256=…",
                                     widget=_secret_input())

    def __init__(self, *args, channel: Channel | None = None, **kwargs) -> None:
        if channel is not None and not kwargs.get("initial"):
            initial = {"kind": channel.kind, "name": channel.name, "enabled": channel.enabled}
            for field in KIND_FIELDS[channel.kind]:
                value = channel.config.get(_key(field))
                initial[field] = "\n".join(value) if isinstance(value, list) else value
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.kept: set[str] = set()  # secret fields left empty whose stored value stays
        for field in SECRET_FIELDS:
            if channel is not None and channel.has_secret(_key(field)) and field in KIND_FIELDS[channel.kind]:
                self.fields[field].help_text = f"{self.fields[field].help_text}; {STORED_HINT}".lstrip("; ")

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind in KIND_FIELDS:
            self._keep_secrets(kind, data)
        check = getattr(self, f"_clean_{kind}", None)
        if check:
            check(data)
        return data

    def _keep_secrets(self, kind: str, data: dict) -> None:
        """An empty secret field keeps the stored secret, unless the destination changed: a secret stored for
        one receiver is never sent to another one because someone edited the host."""
        old = self.channel
        if old is None or old.kind != kind:
            return
        moved = destination(kind, old.config) != destination(kind, {_key(f): data.get(f) for f in KIND_FIELDS[kind]})
        for field in SECRET_FIELDS & set(KIND_FIELDS[kind]):
            if data.get(field) or not old.has_secret(_key(field)) or field in self.errors:
                continue
            if moved:
                self.add_error(field, MOVED)
            else:
                self.kept.add(field)

    def _require(self, data: dict, *fields: str) -> None:
        for field in fields:
            if data.get(field) in (None, "") and field not in self.errors and field not in self.kept:
                self.add_error(field, "Required for this kind of channel.")

    def _check(self, data: dict, validator, *fields: str) -> None:
        """Checks of the chosen kind's fields only: the other kinds' fieldsets are in the page, unused."""
        for field in fields:
            if data.get(field) and field not in self.errors:
                try:
                    validator(data[field])
                except ValidationError as exc:
                    self.add_error(field, exc)

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
        self._check(data, validate_host, "snmp_host")
        self._check(data, validate_plain_text, "snmp_community", "snmp_user")
        if data.get("snmp_version") == "3":
            self._require(data, "snmp_user", "snmp_engine_id")
            if data.get("snmp_priv_protocol", "none") != "none":
                self._require(data, "snmp_auth_key", "snmp_priv_key")
        else:
            self._require(data, "snmp_community")

    def _clean_syslog(self, data: dict) -> None:
        if data.get("syslog_protocol") == "unix":
            self._require(data, "syslog_path")
            self._check(data, validate_plain_text, "syslog_path")
            return
        self._require(data, "syslog_host", "syslog_port")
        self._check(data, validate_host, "syslog_host")
        if data.get("syslog_ca_cert") and (problem := pem_problem(data["syslog_ca_cert"])):
            self.add_error("syslog_ca_cert", problem)

    def _clean_webhook(self, data: dict) -> None:
        self._require(data, "webhook_url")
        url = data.get("webhook_url") or ""
        if url and urlsplit(url).scheme not in ("http", "https"):
            self.add_error("webhook_url", "An http:// or https:// URL.")
        elif url and not valid_host(urlsplit(url).hostname or ""):
            self.add_error("webhook_url", "The URL's host must be a host name or an IP address.")

    def save(self, channel: Channel | None = None) -> Channel:
        data = self.cleaned_data
        channel = channel or Channel()
        channel.kind, channel.name, channel.enabled = data["kind"], data["name"], data["enabled"]
        config = {_key(f): data[f] for f in KIND_FIELDS[data["kind"]]
                  if f not in SECRET_FIELDS and data.get(f) not in (None, "")}
        for field in SECRET_FIELDS & set(KIND_FIELDS[data["kind"]]):
            key = f"{_key(field)}_enc"
            if data.get(field):
                config[key] = encryption.encrypt(data[field])
            elif field in self.kept:
                config[key] = channel.config[key]
        channel.config = config
        new = channel.pk is None
        channel.save()
        if new:
            Route.objects.bulk_create([Route(event=event, channel=channel) for event in ON_BY_DEFAULT])
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
                label = f"{title} → {channel.name}"  # also the box's accessible name: the grid has no <label>s
                self.fields[name] = forms.BooleanField(
                    required=False, initial=(event, channel.pk) in on, label=label,
                    widget=forms.CheckboxInput(attrs={"aria-label": label}))
                row.append(self[name])
            self.grid.append((title, row))

    def save(self) -> int:
        wanted = {(event, c.pk) for event, _ in EVENTS for c in self.channels
                  if self.cleaned_data.get(f"{event}__{c.pk}")}
        Route.objects.filter(pair=self.pair).delete()
        Route.objects.bulk_create([Route(event=e, channel_id=c, pair=self.pair) for e, c in sorted(wanted)])
        return len(wanted)
