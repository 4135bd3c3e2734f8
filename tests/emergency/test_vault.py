"""The vault: AES-256-GCM with key ids, and `manage.py vault` against the real sandbox primary."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from emergency import crypto
from emergency.models import Access, Drill, OutboxEvent
from tests.emergency_steps import vault


def key(kid: str) -> str:
    return f"{kid}:" + base64.b64encode(os.urandom(32)).decode()


def test_secrets_are_aes_gcm_under_a_key_id_and_old_keys_still_decrypt():
    old, new = key("k1"), key("k2")
    with override_settings(VAULT_KEY=old):
        stored = crypto.encrypt("s3cret ✓")
    assert stored.startswith("v1:k1:") and "s3cret" not in stored
    with override_settings(VAULT_KEY=f"{new},{old}"):  # rotated: k2 encrypts, k1 still reads
        assert crypto.decrypt(stored) == "s3cret ✓"
        assert crypto.encrypt("x").startswith("v1:k2:")
    with override_settings(VAULT_KEY=new), pytest.raises(ValueError, match="k1"):
        crypto.decrypt(stored)
    with override_settings(VAULT_KEY="k1:" + base64.b64encode(os.urandom(32)).decode()):
        with pytest.raises(ValueError, match="wrong key"):
            crypto.decrypt(stored)  # same id, another key: the tag does not verify


def test_production_refuses_to_run_without_a_vault_key():
    with override_settings(VAULT_KEY="", DEVELOPMENT=False), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_vault_command_manages_users_secrets_grants_and_shows_the_audit(sandbox_pair, healthy, settings):
    settings.SANDBOX_DIR, settings.SANDBOX_PORT = healthy.folder, healthy.primary.port
    assert "demo emergency login" in vault("init", "--demo")
    assert Access.objects.get(pair=sandbox_pair).reader_user == "hapanel_emergency"
    assert "TOTP secret" in vault("useradd", "dave", "--password-env", "PW", "--totp", PW="dave-pw-1")
    vault("secret-add", "nas", "root", "--secret-env", "SECRET", "--notes", "rack 4", SECRET="nas-secret-42")
    assert vault("grant", "dave", "nas") == "granted\n"
    vault("passwd", "dave", "--password-env", "PW", PW="dave-pw-2")
    row = healthy.sql("primary", "SELECT a.secret, a.notes FROM vault.accounts a JOIN vault.resources r "
                                 "ON r.id = a.resource_id WHERE r.name = 'nas'")[0]
    assert row["notes"] == "rack 4" and crypto.decrypt(row["secret"]) == "nas-secret-42"
    assert "nas-secret-42" not in row["secret"]
    audit = vault("audit", "--limit", "5")
    assert "password-change" in audit and "dave" in audit and "primary" in audit
    assert "emergency access to sandbox open for a drill" in vault("drill", "--minutes", "5", "--by", "carol")
    assert Drill.objects.get().opened_by == "carol"
    assert list(OutboxEvent.objects.values_list("operation", "username")) == [("drill-open", "carol")]
