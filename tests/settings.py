"""Test settings: the real services, kept apart from a development panel running beside them."""

import os

os.environ.setdefault("HAPANEL_DEVELOPMENT", "1")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("HAPANEL_QUEUE", "hapanel-test")
os.environ.setdefault("HAPANEL_CACHE_PREFIX", "hapanel-test")
os.environ.setdefault("HAPANEL_SANDBOX_PORT", "3417")
os.environ.setdefault("HAPANEL_SANDBOX_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test-sandbox"))

from hapanel.settings import *  # noqa: E402,F403
from hapanel.settings import BASE_DIR, DATABASES, VAR_DIR  # noqa: E402

# A file, not memory: Celery workers in other processes must see the test database.
DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test-db.sqlite3") \
    if DATABASES["default"]["ENGINE"].endswith("sqlite3") else None
if not DATABASES["default"]["TEST"]["NAME"]:
    del DATABASES["default"]["TEST"]["NAME"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TEST_OUTPUT = BASE_DIR / "test-output"
