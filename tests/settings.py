"""Test settings: the real services, kept apart from a development panel running beside them.

HAPANEL_TEST_SLOT (0 by default) gives a test run its own sandbox ports, Redis database, queue and
test database, so two runs (or a run beside `make run`) never share anything.
"""

import os
from pathlib import Path

_slot = int(os.environ.get("HAPANEL_TEST_SLOT", "0"))
_base = Path(__file__).resolve().parent.parent
os.environ.setdefault("HAPANEL_DEVELOPMENT", "1")
os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{15 - _slot}")
os.environ.setdefault("HAPANEL_QUEUE", f"hapanel-test-{_slot}")
os.environ.setdefault("HAPANEL_CACHE_PREFIX", f"hapanel-test-{_slot}")
# Tests press Test connection far more often than an admin; the limit has a test of its own.
os.environ.setdefault("HAPANEL_CHECKS_PER_MINUTE", "100000")
# The workers of other tests check up on the sandbox pair rarely, so that their receivers get no warnings they
# did not ask for (the sandbox runs MariaDB's default sync_binlog=0); the warning tests set their own cadence.
os.environ.setdefault("HAPANEL_CHECKUP_SECONDS", "3600")
os.environ.setdefault("HAPANEL_SANDBOX_PORT", str(3417 + 10 * _slot))
os.environ.setdefault("HAPANEL_SANDBOX_DIR", str(_base / "var" / f"test-sandbox-{_slot}"))

from hapanel.settings import *  # noqa: E402,F403
from hapanel.settings import DATABASES, VAR_DIR  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: Celery workers in other processes must see the test database.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / f"test-db-{_slot}.sqlite3")
else:
    DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_hapanel_{_slot}"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TEST_OUTPUT = _base / "test-output" / str(_slot)
TEST_SLOT = _slot
