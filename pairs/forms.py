"""The pair form: a Pair form and one Node form per role, validated together, saved together."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db import transaction

from monitor.models import Node, Pair
from monitor.probe.target import NodeTarget, tls_context
from pairs import pem
from pairs.validators import canonical_host, host_problem, monitor_user_problem, name_problem, normalise_known_as

PEM_ATTRS = {"rows": 4, "cols": 64, "spellcheck": "false", "class": "pem"}
PEM_TEXTAREA = forms.Textarea(attrs=PEM_ATTRS)


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value, as PasswordInput: a posted private key is not sent back."""

    def format_value(self, value: object) -> None:
        return None


class PairForm(forms.ModelForm):
    poll_interval = forms.FloatField(min_value=0.5, max_value=300, initial=settings.POLL_INTERVAL,
                                     label="Poll interval (s)",
                                     help_text="0.5 to 300 seconds")
    debounce = forms.IntegerField(min_value=1, max_value=10, initial=1,
                                  help_text="failing polls before Failed, 1 to 10")
    lag_warning = forms.FloatField(min_value=0.1, max_value=3600, initial=5.0, label="Lag threshold (s)",
                                   help_text="heartbeat age that raises a warning, 0.1 to 3600 seconds")

    class Meta:
        model = Pair
        fields = ["name", "topology", "poll_interval", "debounce", "lag_warning", "paused"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        problem = name_problem(name)
        if problem:
            raise forms.ValidationError(problem)
        # all_objects: an archived pair keeps its (renamed) name, which stays taken.
        taken = Pair.all_objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"A pair named “{name}” already exists: choose another name.")
        return name


class NodeForm(forms.ModelForm):
    """One node. The password and the client key are write-only: blank keeps what is stored."""

    MAIN_FIELDS = ["host", "port", "known_as", "monitor_user", "monitor_password"]
    TLS_FIELDS = ["tls_mode", "ca_cert", "ca_cert_file", "client_cert", "client_cert_file", "client_key",
                  "client_key_file", "remove_client_cert"]

    port = forms.IntegerField(min_value=1, max_value=65535, initial=3306, help_text="1 to 65535")
    monitor_password = forms.CharField(required=False, strip=False, widget=forms.PasswordInput(render_value=False))
    ca_cert_file = forms.FileField(required=False, label="or upload the CA certificate")
    client_cert_file = forms.FileField(required=False, label="or upload the client certificate")
    client_key = forms.CharField(required=False, label="Client key (PEM)", widget=WriteOnlyTextarea(PEM_ATTRS),
                                 help_text="write-only: never shown again; leave blank to keep the stored key")
    client_key_file = forms.FileField(required=False, label="or upload the client key")
    remove_client_cert = forms.BooleanField(required=False, label="Remove the client certificate and key")

    class Meta:
        model = Node
        fields = ["host", "port", "known_as", "monitor_user", "tls_mode", "ca_cert", "client_cert"]
        labels = {"known_as": "Known as (slave_hosts)", "tls_mode": "TLS", "ca_cert": "CA certificate (PEM)",
                  "client_cert": "Client certificate (PEM)"}
        widgets = {"ca_cert": PEM_TEXTAREA, "client_cert": PEM_TEXTAREA}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notes: dict[str, list[str]] = {}  # shown under a field: expiry dates, normalisations
        self.warnings: list[str] = []  # shown above the form and after saving
        has_password = bool(self.instance.pk and self.instance.monitor_password_enc)
        self.fields["monitor_password"].help_text = (
            "write-only: leave blank to keep the stored password" if has_password else "")
        if self.instance.pk and self.instance.client_key_enc:
            self.notes["client_key"] = ["A client key is stored."]
        for name in ("ca_cert", "client_cert"):
            self._describe_stored(name)

    def _describe_stored(self, name: str) -> None:
        stored = getattr(self.instance, name, "")
        if stored and not self.is_bound:
            self.notes[name] = [pem.summary(stored)]

    def main_rows(self) -> list[tuple[forms.BoundField, list[str]]]:
        return [(self[name], self.notes.get(name, [])) for name in self.MAIN_FIELDS]

    def tls_rows(self) -> list[tuple[forms.BoundField, list[str]]]:
        return [(self[name], self.notes.get(name, [])) for name in self.TLS_FIELDS]

    # ---- fields ------------------------------------------------------------------------------
    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip()
        problem = host_problem(host)
        if problem:
            raise forms.ValidationError(problem)
        return host

    def clean_monitor_user(self) -> str:
        user = self.cleaned_data["monitor_user"]
        problem = monitor_user_problem(user)
        if problem:
            raise forms.ValidationError(problem)
        return user

    def clean_known_as(self) -> str:
        raw = self.cleaned_data["known_as"]
        value, problems = normalise_known_as(raw)
        if problems:
            raise forms.ValidationError(problems)
        if value != raw.strip():
            self.notes.setdefault("known_as", []).append(
                f"Spaces removed, as the guide requires: “{raw.strip()}” became “{value}”.")
        return value

    def _pem_input(self, name: str) -> str:
        upload = self.cleaned_data.get(f"{name}_file")
        if upload:
            # One byte over the limit is enough for pem.blocks to say the file is too large.
            return upload.read(pem.MAX_CHARS + 1).decode("utf-8", "replace")
        return self.cleaned_data.get(name) or ""

    def _pem_blocks(self, name: str, text: str, labels: tuple[str, ...], missing: str) -> str:
        """The PEM blocks of kind `labels` in the field's `text`, normalised (pem.blocks); '' and a field error
        when unusable."""
        if not text.strip():
            return ""
        try:
            normalised, changed = pem.blocks(text, labels)
        except pem.PemError as exc:
            self.add_error(name, str(exc))
            return ""
        if not normalised:
            self.add_error(name, missing)
            return ""
        if changed:
            self.notes.setdefault(name, []).append(
                "Kept only the PEM blocks: a byte-order mark and the text around them were dropped.")
        return normalised

    def _forget(self, name: str) -> None:
        """Renders the field empty: what was posted must not be shown back."""
        self.data = self.data.copy()
        self.data[self.add_prefix(name)] = ""

    def _tls_problem(self, **target: str) -> str:
        """Why the monitor's own TLS code (tls_context) cannot use these PEM texts; '' when it can."""
        try:
            tls_context(NodeTarget(role=self.prefix or "node", host="check", port=1, user="", **target))
        except Exception as exc:  # noqa: BLE001 (ssl, ValueError, TypeError: whatever polling would raise)
            return f"The monitor's TLS library cannot use this ({' '.join(str(exc).split())[:160]})."
        return ""

    # ---- the whole node ------------------------------------------------------------------------
    def clean(self) -> dict:
        data = super().clean()
        if data.get("tls_mode") == Node.TLS_OFF:
            self.warnings.append("TLS is off: the monitor's password and every reading cross the network "
                                 "in clear text. Use it only on a trusted network.")
        data["ca_cert"] = self._clean_certificate("ca_cert")
        if data["ca_cert"] and (problem := self._tls_problem(tls_mode=Node.TLS_VERIFY_CA, ca_pem=data["ca_cert"])):
            self.add_error("ca_cert", problem)
        self._clean_client_pair(data)
        if not data.get("monitor_password"):
            self._require_password(data)
        return data

    def _require_password(self, data: dict) -> None:
        """A stored password is only ever sent where it was stored for: a changed endpoint or TLS setting
        (possibly pointing at a server that asks for the password in clear) needs it typed again."""
        node = self.instance
        if not node.monitor_password_enc:
            self.add_error("monitor_password", "Enter the monitor account's password.")
            return
        changed = [label for label, now, stored in (
            ("host", canonical_host(data.get("host") or ""), canonical_host(node.host)),
            ("port", data.get("port"), node.port),
            ("TLS mode", data.get("tls_mode"), node.tls_mode),
            ("CA certificate", data.get("ca_cert", ""), _normalised(node.ca_cert)),
        ) if now != stored]
        if changed:
            self.add_error("monitor_password", f"The {', '.join(changed)} changed: type the monitor password "
                                               "again (the stored one is only sent to the server it was stored for).")

    def _clean_certificate(self, name: str) -> str:
        text = self._pem_input(name)
        if pem.has_private_key(text):
            self._forget(name)
            self.add_error(name, "This is a private key, not a certificate. It was not saved: paste only the "
                                 "certificate here (a client key goes in the client key field).")
            return ""
        text = self._pem_blocks(name, text, ("CERTIFICATE",),
                                "This is not PEM text: it should start with -----BEGIN CERTIFICATE-----.")
        if not text:
            return ""
        try:
            infos, warnings = pem.check_certificates(text)
        except pem.PemError as exc:
            self.add_error(name, str(exc))
            return ""
        self.notes[name] = [item.describe() for item in infos] + self.notes.get(name, [])
        self.warnings.extend(f"{self.prefix or ''} {self.fields[name].label}: {w}".strip() for w in warnings)
        return text

    def _clean_client_pair(self, data: dict) -> None:
        if data.get("remove_client_cert"):
            data["client_cert"], data["client_key"] = "", ""
            return
        data["client_cert"] = self._clean_certificate("client_cert")
        data["client_key"] = self._pem_blocks(
            "client_key", self._pem_input("client_key"), ("PRIVATE KEY",),
            "This is not a PEM private key: it should start with -----BEGIN ... PRIVATE KEY-----.")
        if self.has_error("client_cert") or self.has_error("client_key"):
            return
        key = data["client_key"] or (self.instance.get_client_key() if self.instance.client_key_enc else "")
        cert = data["client_cert"]
        if cert and not key:
            self.add_error("client_key", "A client certificate needs its private key.")
        elif data["client_key"] and not cert:
            self.add_error("client_cert", "A client key needs its client certificate.")
        elif cert and key:
            try:
                pem.check_key_matches(cert, key)
            except pem.PemError as exc:
                self.add_error("client_key", str(exc))
                return
            if problem := self._tls_problem(tls_mode=Node.TLS_REQUIRED, client_cert_pem=cert, client_key_pem=key):
                self.add_error("client_cert", problem)

    def apply(self, node: Node) -> Node:
        """Copies the cleaned values onto `node`, secrets through the model's encrypting setters."""
        data = self.cleaned_data
        for name in self.Meta.fields:
            setattr(node, name, data[name])
        if data.get("monitor_password"):
            node.set_password(data["monitor_password"])
        if data.get("remove_client_cert"):
            node.client_key_enc = ""
        elif data.get("client_key"):
            node.set_client_key(data["client_key"])
        return node


def _normalised(stored: str) -> str:
    """A stored certificate as the form would store it today (older rows may hold a BOM or notes)."""
    try:
        return pem.blocks(stored, ("CERTIFICATE",))[0]
    except pem.PemError:
        return stored


class PairEditor:
    """The pair and its two nodes as one form, with the checks that need both nodes."""

    ROLES = (Node.PRIMARY, Node.SECONDARY)

    def __init__(self, data=None, files=None, pair: Pair | None = None) -> None:
        self.pair = pair
        nodes = {n.role: n for n in pair.nodes.all()} if pair else {}
        self.form = PairForm(data, instance=pair)
        self.nodes = {role: NodeForm(data, files, prefix=role, instance=nodes.get(role) or Node(role=role))
                      for role in self.ROLES}

    @property
    def primary(self) -> NodeForm:
        return self.nodes[Node.PRIMARY]

    @property
    def secondary(self) -> NodeForm:
        return self.nodes[Node.SECONDARY]

    def nodes_valid(self) -> bool:
        valid = all([f.is_valid() for f in self.nodes.values()])  # a list: every form reports its errors
        if valid and self._same_endpoint():
            p = self.primary.cleaned_data
            self.secondary.add_error("host", f"The secondary cannot be the primary's own address "
                                             f"({p['host']}:{p['port']}): enter the other node.")
            return False
        return valid

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.nodes_valid()])

    def _same_endpoint(self) -> bool:
        p, s = self.primary.cleaned_data, self.secondary.cleaned_data
        return canonical_host(p["host"]) == canonical_host(s["host"]) and p["port"] == s["port"]

    @property
    def warnings(self) -> list[str]:
        return [w for f in self.nodes.values() for w in f.warnings]

    @property
    def notes(self) -> list[str]:
        return [f"{role.capitalize()}: {n}" for role, f in self.nodes.items() for n in f.notes.get("known_as", [])
                if n.startswith("Spaces removed")]

    @transaction.atomic
    def save(self) -> Pair:
        pair = self.form.save()
        for role, form in self.nodes.items():
            node = form.instance
            node.pair, node.role = pair, role
            form.apply(node).save()
        return pair


def form_target(form: NodeForm, role: str, timeout: float) -> NodeTarget:
    """The monitor's view of a node as the form describes it (stored secrets where left blank)."""
    data, node = form.cleaned_data, form.instance
    password = data.get("monitor_password") or (node.get_password() if node.monitor_password_enc else "")
    key = "" if data.get("remove_client_cert") else (
        data.get("client_key") or (node.get_client_key() if node.client_key_enc else ""))
    return NodeTarget(
        role=role, host=data["host"], port=data["port"], user=data["monitor_user"], password=password,
        tls_mode=data["tls_mode"], ca_pem=data.get("ca_cert", ""), client_cert_pem=data.get("client_cert", ""),
        client_key_pem=key, timeout=timeout, heartbeat_schema=settings.HEARTBEAT_SCHEMA, write_heartbeat=False,
    )
