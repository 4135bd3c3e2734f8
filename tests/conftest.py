"""Session fixtures that start the real parts: the sandbox pair, Redis, Celery workers."""

from __future__ import annotations

import pytest
from django.conf import settings

from devtools.sandbox import SandboxError, SandboxPair
from tests import services


def _fail(message: str) -> None:
    # A service that cannot start fails the run, in CI and on a laptop alike: nothing is skipped.
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def sandbox() -> SandboxPair:
    pair = SandboxPair(settings.SANDBOX_DIR, settings.SANDBOX_PORT)
    if pair.state:
        pair.down()  # leftovers of an interrupted run
        pair = SandboxPair(settings.SANDBOX_DIR, settings.SANDBOX_PORT)
    try:
        pair.up()
    except SandboxError as exc:
        _fail(f"the sandbox pair could not start: {exc}")
    yield pair
    pair.down()


@pytest.fixture
def healthy(sandbox: SandboxPair) -> SandboxPair:
    """The sandbox, healed after the test whatever it broke."""
    yield sandbox
    if sandbox.faults or not (sandbox.running("primary") and sandbox.running("secondary")):
        sandbox.heal()


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        services.ensure_redis(settings.REDIS_URL)
    except RuntimeError as exc:
        _fail(str(exc))
    return settings.REDIS_URL


@pytest.fixture
def flush_redis(redis_url: str):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    yield


@pytest.fixture(scope="session")
def output_dir():
    path = settings.TEST_OUTPUT
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def worker(transactional_db, redis_url, flush_redis):
    """A real Celery worker with beat, polling whatever pairs the test registers."""
    from tests.workers import Worker

    w = Worker("main").start()
    yield w
    w.stop()


@pytest.fixture
def sandbox_pair(transactional_db, healthy):
    """The sandbox pair registered in the panel (a fresh Pair row)."""
    from devtools.registry import register

    return register(healthy)


@pytest.fixture(scope="session", autouse=True)
def _no_stray_database_sessions(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the sessions that threads of the tests left open
    (PostgreSQL refuses to drop a database in use, and the next run would then find it)."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
