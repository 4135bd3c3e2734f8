"""The setup assistant's Django side: its options form, and the generated plan kept for the download.

The plan's passwords live only in the admin's session, encrypted, until the next generation: the
page shows them once and the .zip offered beside it holds the very same ones. Generating changes nothing
in the panel: the new monitor password is stored only from Verify, once it logs in on both nodes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, fields

from django import forms
from django.conf import settings

from hapanel import encryption
from monitor.models import Node, Pair, Transition
from monitor.vocabulary import Status
from pairs.setup_sql import FLAVOURS, MARIADB, Passwords, Plan, Server, SetupInput, plan

_HOST_PATTERN = re.compile(r"^[A-Za-z0-9.%_:/-]{1,255}$")
_IDENT = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


def _pattern(value: str) -> str:
    if not _HOST_PATTERN.match(value):
        raise forms.ValidationError("Use a MySQL host pattern: a name, an address, % and _ as wildcards.")
    return value


class SetupForm(forms.Form):
    flavour = forms.ChoiceField(choices=FLAVOURS, initial=MARIADB)
    tls_dir = forms.CharField(initial="/etc/mysql/tls", label="TLS files folder on the servers",
                              help_text="holding ca.pem, server-cert.pem and server-key.pem")
    primary_server_id = forms.IntegerField(min_value=1, max_value=4294967295, initial=1)
    secondary_server_id = forms.IntegerField(min_value=1, max_value=4294967295, initial=2)
    monitor_from = forms.CharField(initial="%", label="Panel address (monitor account host)")
    vault_schema = forms.CharField(initial=getattr(settings, "VAULT_SCHEMA", "vault"), label="Vault schema")
    emergency_from = forms.CharField(initial="%", label="Emergency page address (emergency account host)")
    vault_admin = forms.BooleanField(
        required=False, initial=False, label="Vault admin account",
        help_text="also create hapanel_vault_admin on the primary, for HAPANEL_VAULT_ADMIN_DSN (manage.py vault): "
                  "it may create and write the vault schema only")

    replicating = forms.BooleanField(
        required=False, initial=False, label="The pair replicates already",
        help_text="leave out the replication accounts and step 4, so the running link is not touched; ticked when "
                  "the panel saw this pair's replication run")

    def clean_tls_dir(self) -> str:
        value = self.cleaned_data["tls_dir"].rstrip("/") or "/"
        if not value.startswith("/") or "'" in value or any(c.isspace() for c in value):
            raise forms.ValidationError("Enter an absolute path without spaces or quotes.")
        return value

    def clean_vault_schema(self) -> str:
        value = self.cleaned_data["vault_schema"]
        if not _IDENT.match(value):
            raise forms.ValidationError("Letters, digits, _ and $ only.")
        return value

    def clean_monitor_from(self) -> str:
        return _pattern(self.cleaned_data["monitor_from"])

    def clean_emergency_from(self) -> str:
        return _pattern(self.cleaned_data["emergency_from"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("primary_server_id") and data.get("primary_server_id") == data.get("secondary_server_id"):
            self.add_error("secondary_server_id", "The two nodes need different server ids.")
        return data


def setup_input(pair: Pair, options: dict) -> SetupInput:
    nodes = {n.role: n for n in pair.nodes.all()}

    def server(role: str) -> Server:
        node = nodes[role]
        return Server(role=role, host=node.host, port=node.port, server_id=options[f"{role}_server_id"],
                      known_as=tuple(n for n in node.known_as.split(",") if n))

    return SetupInput(
        flavour=options["flavour"], topology=pair.topology, primary=server(Node.PRIMARY),
        secondary=server(Node.SECONDARY), tls=all(n.tls_mode != Node.TLS_OFF for n in nodes.values()),
        tls_dir=options["tls_dir"], monitor_user=nodes[Node.PRIMARY].monitor_user,
        monitor_from=options["monitor_from"], heartbeat_schema=settings.HEARTBEAT_SCHEMA,
        vault_schema=options["vault_schema"],
        emergency_from=options["emergency_from"], vault_admin=bool(options.get("vault_admin")),
        replicating=bool(options.get("replicating")),
    )


def replicates(pair: Pair) -> bool:
    """Whether the panel has seen the pair's replication run: then the assistant leaves it alone by default."""
    return pair.repl_status == Status.ALIVE or pair.transitions.filter(
        kind=Transition.REPLICATION, new_status=Status.ALIVE).exists()


def _key(pair: Pair) -> str:
    return f"hapanel-setup-{pair.pk}"


def keep(session, pair: Pair, setup: SetupInput, passwords: Passwords) -> None:
    session[_key(pair)] = {"input": asdict(setup), "passwords": encryption.encrypt(json.dumps(asdict(passwords)))}


def kept(session, pair: Pair) -> Plan | None:
    stored = session.get(_key(pair))
    if not stored:
        return None
    data = dict(stored["input"])
    for role in ("primary", "secondary"):
        data[role] = Server(**{**data[role], "known_as": tuple(data[role]["known_as"])})
    passwords = json.loads(encryption.decrypt(stored["passwords"]))
    if set(passwords) != {f.name for f in fields(Passwords)}:
        return None  # kept before the accounts changed: generating again gives the whole set
    return plan(SetupInput(**data), Passwords(**passwords))


def generated_monitor_password(session, pair: Pair) -> str | None:
    """The monitor password of the setup last generated for the pair, while the panel monitors with another one.
    Generating stores nothing: Verify tries this password, and the admin stores it once it logs in on both nodes."""
    generated = kept(session, pair)
    if generated is None:
        return None
    new = generated.passwords.monitor
    return None if {_stored_password(node) for node in pair.nodes.all()} == {new} else new


def _stored_password(node: Node) -> str:
    try:
        return node.get_password()
    except ValueError:  # it no longer decrypts: a password to replace, like any other
        return ""
