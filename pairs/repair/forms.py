"""The rebuild assistant's options: which node, how, and where things are on the servers' hosts."""

from __future__ import annotations

from django import forms

from monitor.models import Pair
from pairs.repair import offers
from pairs.repair.rebuild import BACKUP, CLONE, DUMP, METHODS, Hosts, method_problem
from pairs.repair.service import HOST_FIELDS, setup_flavour, version_numbers
from pairs.setup_sql import FLAVOURS, MARIADB

TARGETS = [("secondary", "the secondary, from the primary"), ("primary", "the primary, from the secondary")]


class RebuildForm(forms.Form):
    target = forms.ChoiceField(choices=TARGETS, label="Rebuild", widget=forms.RadioSelect)
    method = forms.ChoiceField(choices=METHODS, label="Copy with")
    flavour = forms.ChoiceField(choices=FLAVOURS)
    version = forms.CharField(max_length=40, label="Server version", help_text="as the nodes report it, e.g. 10.11.6")
    tls_dir = forms.CharField(initial="/etc/mysql/tls", label="TLS files folder on the servers",
                              help_text="holding ca.pem, as the setup assistant named it")
    datadir = forms.CharField(initial=Hosts.datadir, label="Data directory of the rebuilt node")
    backup_dir = forms.CharField(initial=Hosts.backup_dir, label="Folder for the copy, on both hosts")
    service = forms.CharField(required=False, label="systemd unit", help_text="mariadb or mysql when empty")
    os_user = forms.CharField(initial=Hosts.os_user, label="System user of the server")
    source_defaults = forms.CharField(required=False, label="Option file on the source's host",
                                      help_text="passed as --defaults-file to the tools there; empty: their defaults")
    target_defaults = forms.CharField(required=False, label="Option file on the rebuilt node's host")

    @classmethod
    def for_pair(cls, pair: Pair, data=None, target: str = "") -> RebuildForm:
        """Initial values from what the monitor last read: the server's flavour and version, the broken node."""
        readings = pair.readings or {}
        node = next((readings.get(r) for r in ("secondary", "primary") if (readings.get(r) or {}).get("flavour")), {})
        flavour, version = (node or {}).get("flavour", ""), str((node or {}).get("version") or "")
        chosen = setup_flavour(flavour, version) if flavour else MARIADB
        wanted = target if target in dict(TARGETS) else offers.broken_replica(readings)
        initial = {"target": wanted, "flavour": chosen, "version": version,
                   "method": BACKUP if chosen == MARIADB else (CLONE if version_numbers(version) >= (8, 0, 17)
                                                               else DUMP)}
        form = cls(data, initial=initial)
        form.topology = pair.topology
        return form

    def clean_version(self) -> str:
        value = self.cleaned_data["version"].strip()
        if not version_numbers(value):
            raise forms.ValidationError("Enter the version the servers report, e.g. 10.11.6 or 8.0.36.")
        return value

    def clean_tls_dir(self) -> str:
        value = self.cleaned_data["tls_dir"].rstrip("/") or "/"
        if not value.startswith("/") or "'" in value or any(c.isspace() for c in value):
            raise forms.ValidationError("Enter an absolute path without spaces or quotes.")
        return value

    topology = Pair.BIDIRECTIONAL

    def clean(self) -> dict:
        data = super().clean()
        if data.get("target") == "primary" and self.topology != Pair.BIDIRECTIONAL:
            # In a one-way pair the primary has no replica position to resume from: that is a switchover.
            self.add_error("target", "In a one-way pair only the secondary is rebuilt; to make the secondary the "
                                     "source, switch the roles over first.")
        for name in HOST_FIELDS:
            try:
                Hosts(**{name: data.get(name) or ""})
            except ValueError as exc:
                self.add_error(name, str(exc).split(": ", 1)[0].replace(name, "This").capitalize() + ".")
        flavour, version = data.get("flavour"), version_numbers(data.get("version", ""))
        if flavour and version and data.get("method"):
            if problem := method_problem(flavour, version, data["method"]):
                self.add_error("method", problem[0].upper() + problem[1:] + ".")
            elif flavour != MARIADB and version < (8, 0):
                self.add_error("version", "MySQL 8.0 or later: the pair replicates with GTIDs the 8.0 way.")
        return data

    def options(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
