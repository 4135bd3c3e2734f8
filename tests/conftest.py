"""The fixtures every test may use, and the markers that say which real services a test starts.

Where things are:

- tests/<app>/test_*.py: the tests, grouped by the app they test (monitor, board, pairs, alerts, emergency,
  devtools); tests/test_docker_compose.py checks the deployment example, which spans them all.
- Here: personas (users and logged-in clients) and the real services (sandbox pair, Redis, Celery workers,
  alert receivers, Chromium).
- tests/factories.py: plain functions building test data (users, pairs as recorded, form data, certificates,
  transitions). tests/waiting.py: waiting for the monitor's statuses. tests/emergency_steps.py: the steps of
  an emergency login. tests/services.py, workers.py, receivers.py, browser.py: the real services themselves.
  A test module imports helpers from those, never from another test module.

Personas (function-scoped, on the app database):

- users: `admin` (alice, role admin), `viewer` (victor, role viewer), `outsider` (oscar, logged in, no role);
  their passwords are "pw-<name>" (tests.factories.make_user).
- Django test clients: `admin_client`, `viewer_client`, `outsider_client` (logged in as those users) and
  `anonymous_client` (nobody logged in). A test parametrized by persona takes
  `request.getfixturevalue(f"{persona}_client")`. (The emergency tests also log users of the vault in through
  fresh `Client()`s of their own: those are not users of the panel.)

Markers, set here from the fixtures a test uses (directly or through other fixtures), never by hand:

- `sandbox`: the test starts the real MariaDB sandbox pair (`sandbox`, `healthy`, `sandbox_pair`,
  `demo_vault`, ...) or bare MariaDB nodes of its own (`fresh_nodes`).
- `worker`: the test starts real Celery worker processes (`worker`, `worker_factory`, `alert_worker`,
  `polling_alert_worker`).
- `browser`: the test drives Debian's Chromium (`browser`), usually against a real `runserver`.

`pytest -m "not sandbox and not worker and not browser"` runs the quick tests: they need the app database,
and some of them the machine's Redis (`redis_url`, `flush_redis`: started if it is not running) and the
alert receivers on loopback (`receivers`: in-process SMTP, HTTP and syslog servers, and snmptrapd), nothing
else. A test that starts a sandbox node, a worker or Chromium without its marker fails and says which fixture
to use: start those services only through the fixtures named in SERVICE_MARKERS.
"""

from __future__ import annotations

import functools

import pytest
from django.conf import settings
from django.test import Client

from devtools.sandbox import SandboxError, SandboxPair, process
from hapanel.roles import ADMIN, VIEWER
from tests import receivers as receivers_module
from tests import services
from tests.factories import make_user
from tests.workers import Worker

# marker: the fixtures that start its service. Every fixture depending on one of these (healthy, sandbox_pair,
# worker, ...) carries the marker too, since pytest lists a test's fixtures with their dependencies.
SERVICE_MARKERS = {
    "sandbox": {"sandbox", "fresh_nodes", "network_lab"},
    "worker": {"worker_factory"},
    "browser": {"browser"},
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in SERVICE_MARKERS.items():
            if used & fixtures:
                item.add_marker(marker)


# ---- the check that the markers are right ---------------------------------------------------------------------

_running: pytest.Item | None = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    global _running
    _running = item
    try:
        return (yield)
    finally:
        _running = None


def _only_when_marked(marker: str, what: str, start):
    @functools.wraps(start)
    def checked(*args, **kwargs):
        if _running is not None and _running.get_closest_marker(marker) is None:
            pytest.fail(f"{_running.nodeid} starts {what} but is not marked `{marker}`: start it through one of the "
                        f"fixtures {sorted(SERVICE_MARKERS[marker])} (or one using them), which mark the test "
                        f"(tests/conftest.py)", pytrace=False)
        return start(*args, **kwargs)
    return checked


def pytest_configure(config):
    from playwright.sync_api import BrowserType

    process.start = _only_when_marked("sandbox", "a mariadbd", process.start)
    Worker.start = _only_when_marked("worker", "a Celery worker", Worker.start)
    BrowserType.launch = _only_when_marked("browser", "a browser", BrowserType.launch)


# ---- personas ---------------------------------------------------------------------------------------------------


@pytest.fixture
def admin(db):
    return make_user("alice", ADMIN)


@pytest.fixture
def viewer(db):
    return make_user("victor", VIEWER)


@pytest.fixture
def outsider(db):
    """Logged in, but neither viewer nor admin."""
    return make_user("oscar", None)


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin) -> Client:
    return _logged_in(admin)


@pytest.fixture
def viewer_client(viewer) -> Client:
    return _logged_in(viewer)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return _logged_in(outsider)


@pytest.fixture
def anonymous_client(db) -> Client:
    return Client()


# ---- the sandbox pair (marker `sandbox`) --------------------------------------------------------------------------


def _fail(message: str) -> None:
    # A service that cannot start fails the run, in CI and on a laptop alike: nothing is skipped.
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def sandbox() -> SandboxPair:
    """The real MariaDB pair replicating both ways over TLS (devtools.sandbox), shared by the whole run."""
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


@pytest.fixture
def sandbox_pair(transactional_db, healthy):
    """The sandbox pair registered in the panel (a fresh Pair row)."""
    from devtools.registry import register

    return register(healthy)


@pytest.fixture
def demo_vault(sandbox_pair, healthy):
    """The sandbox pair with its demo vault seeded and emergency access configured: (pair, demo)."""
    from devtools.demo_vault import seed
    from emergency import connect

    demo = seed(healthy, sandbox_pair)
    services.wait_for(lambda: healthy.sql("secondary", "SELECT COUNT(*) AS n FROM vault.grants")[0]["n"] >= 4, 10,
                      "the demo vault to replicate to the secondary")
    connect.forget_reach()
    yield sandbox_pair, demo
    connect.forget_reach()


@pytest.fixture(scope="module")
def fresh_nodes() -> SandboxPair:
    """Two bare mariadbd with TLS certificates and nothing else: no replication, no accounts."""
    nodes = SandboxPair(settings.VAR_DIR / f"test-fresh-{settings.TEST_SLOT}", 3600 + 10 * settings.TEST_SLOT,
                        replicate=False)
    if nodes.state:
        nodes.down()
        nodes = SandboxPair(nodes.folder, nodes.primary.port, replicate=False)
    nodes.up()
    yield nodes
    nodes.down()


# ---- Redis, Celery workers, alert receivers ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis (started if it is not running), on this run's database number."""
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
    """Where tests leave logs and screenshots: test-output/<slot>/."""
    path = settings.TEST_OUTPUT
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def private_redis(output_dir):
    """A Redis of the test's own (tests.services.PrivateRedis), started; stop and start it to make an outage."""
    server = services.PrivateRedis(output_dir).start()
    yield server
    server.stop()


@pytest.fixture
def worker_factory(transactional_db, redis_url, flush_redis):
    """Starts real Celery workers: `worker_factory(name, beat=True, supervised=False, env=None)` returns a started
    tests.workers.Worker; every worker still running is stopped after the test, the last started first."""
    started: list[Worker] = []

    def start(name: str, **options) -> Worker:
        worker = Worker(name, **options)
        started.append(worker)
        return worker.start()

    yield start
    for worker in reversed(started):
        worker.stop()


@pytest.fixture
def worker(worker_factory) -> Worker:
    """A real Celery worker with beat, polling whatever pairs the test registers."""
    return worker_factory("main")


@pytest.fixture
def receivers(output_dir) -> receivers_module.Receivers:
    """Real alert receivers on loopback: SMTP, HTTP (webhooks), syslog (UDP and TCP), snmptrapd."""
    r = receivers_module
    with (r.SmtpReceiver() as smtp, r.HttpReceiver() as http, r.SyslogReceiver() as syslog,
          r.TrapReceiver(output_dir / "snmptrapd") as traps):
        yield r.Receivers(smtp, http, syslog, traps)


@pytest.fixture
def alert_worker(receivers, worker_factory) -> Worker:  # receivers stop after the worker
    """A worker without beat: delivers what the test queues, polls nothing."""
    return worker_factory("alerts", beat=False, env=receivers_module.worker_env(receivers))


@pytest.fixture
def polling_alert_worker(receivers, worker_factory) -> Worker:
    """A worker with beat: polls the registered sandbox pair and delivers its alerts."""
    return worker_factory("alerts-polling", beat=True, env=receivers_module.worker_env(receivers))


# ---- Chromium (marker `browser`) ------------------------------------------------------------------------------------


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium through Playwright's sync API; start the web server with tests.browser.web_server."""
    from tests.browser import chromium

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium() as launched:
        yield launched


# ---- the app database -----------------------------------------------------------------------------------------------


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
