"""Settings, read from the environment. Every variable is listed in the README with its default."""

import socket
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; missing file is fine

DEBUG = env.bool("DEBUG", default=False)
# DEVELOPMENT relaxes what only a real deployment must set (SECRET_KEY, the encryption key).
DEVELOPMENT = env.bool("HAPANEL_DEVELOPMENT", default=DEBUG)

_DEV_SECRET = "hapanel-development-only-secret-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string, "
            "or HAPANEL_DEVELOPMENT=1 (or DEBUG=1) on a development machine."
        )
    SECRET_KEY = _DEV_SECRET

# Fernet key (urlsafe base64, 32 bytes) for monitor passwords at rest. In development a key is
# derived from SECRET_KEY so that a fresh clone works; production must set its own.
ENCRYPTION_KEY = env.str("HAPANEL_ENCRYPTION_KEY", default="")
if not ENCRYPTION_KEY and not DEVELOPMENT:
    raise ImproperlyConfigured(
        "HAPANEL_ENCRYPTION_KEY is not set. Generate one with "
        "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "hapanel.apps.HapanelConfig",  # the system checks of the settings (hapanel/checks.py)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "monitor",
    "board",
    "pairs",
    "alerts",
    "emergency",
]
if DEVELOPMENT:
    # The sandbox pair and the demo vault: never in a production install.
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hapanel.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files under gunicorn, no CDN, no proxy needed
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hapanel.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hapanel.urls"
WSGI_APPLICATION = "hapanel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hapanel.roles.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hapanel.sqlite3'}")}
# Workers run a poll task per pair per interval: reconnecting to PostgreSQL for each one costs more
# than the poll itself. Kept connections are health-checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Workers and the web server write concurrently: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Starts every key this panel keeps in Redis (the cache's and the monitor's own), so panels can share one.
CACHE_PREFIX = env.str("HAPANEL_CACHE_PREFIX", default="hapanel")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_PREFIX,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60}
CELERY_TASK_DEFAULT_QUEUE = env.str("HAPANEL_QUEUE", default="hapanel")
# Redis serves priority 0 first: the default leaves room for the urgent polls (see monitor/tasks.py).
CELERY_TASK_DEFAULT_PRIORITY = 3
# Celery closes the database connection around every task unless this is set, and a new PostgreSQL
# connection per poll was the largest cost at scale; tasks.py closes old connections the Django way
# instead (CONN_MAX_AGE, CONN_HEALTH_CHECKS) before each task.
CELERY_DB_REUSE_MAX = 2**31
# The dispatcher ticks twice a second; each pair is still polled once per its own interval (see tasks.dispatch).
DISPATCH_TICK = 0.5
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-pairs": {"task": "monitor.tasks.dispatch", "schedule": DISPATCH_TICK,
                           "options": {"expires": DISPATCH_TICK}},
}

# The dead man's switch: while the monitor runs, POST to this URL every DEADMAN_SECONDS (off when empty).
DEADMAN_URL = env.str("HAPANEL_DEADMAN_URL", default="")
DEADMAN_SECONDS = env.float("HAPANEL_DEADMAN_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["deadman"] = {"task": "monitor.tasks.ping_deadman", "schedule": DEADMAN_SECONDS,
                                   "options": {"expires": DEADMAN_SECONDS}}

# Warnings before failures (monitor/risks/): each pair's settings, binary logs and GTID state are read on this
# slower cadence, on connections of their own, so that the regular poll pays nothing for them.
CHECKUP_SECONDS = env.float("HAPANEL_CHECKUP_SECONDS", default=300.0)
# Checkups are queued a share at a time, every CHECKUP_TICK seconds, so that they spread over the period.
CHECKUP_TICK = min(5.0, CHECKUP_SECONDS)
CELERY_BEAT_SCHEDULE["checkups"] = {"task": "monitor.tasks.dispatch_checkups", "schedule": CHECKUP_TICK,
                                    "options": {"expires": CHECKUP_TICK}}

# Monitoring defaults (a pair may override interval, debounce and lag threshold).
POLL_INTERVAL = env.float("HAPANEL_POLL_INTERVAL", default=1.0)
STALE_MIN_SECONDS = env.float("HAPANEL_STALE_MIN_SECONDS", default=5.0)
# While a pair is unsettled (not Alive/Alive, or a node unreachable) it is re-polled every quarter
# interval (at least RECHECK_SECONDS), for RECHECK_WINDOW seconds after its last flip: fast recovery
# and hang detection, without a storm when many pairs fail together.
RECHECK_SECONDS = env.float("HAPANEL_RECHECK_SECONDS", default=0.25)
RECHECK_WINDOW = env.float("HAPANEL_RECHECK_WINDOW", default=60.0)
# Regular polls travel in batches of up to POLL_BATCH pairs (one message, one database round per batch).
POLL_BATCH = env.int("HAPANEL_POLL_BATCH", default=50)
RECHECK_MAX_INTERVAL = env.float("HAPANEL_RECHECK_MAX_INTERVAL", default=2.0)  # slower pairs are not rechecked
HEARTBEAT_SCHEMA = env.str("HAPANEL_HEARTBEAT_SCHEMA", default="hapanel_monitor")
# How long a replica may take to show the heartbeat written in the same poll; a link slower than
# this (plus 0.2 s) counts as not flowing. Raise it for slow WAN links.
HEARTBEAT_WAIT = env.float("HAPANEL_HEARTBEAT_WAIT", default=0.3)
# Names this panel's heartbeat rows, so two panels watching the same servers never share one.
HAPANEL_INSTANCE = env.str("HAPANEL_INSTANCE", default=socket.gethostname())

# The sandbox pair (`manage.py sandbox`).
SANDBOX_DIR = Path(env.str("HAPANEL_SANDBOX_DIR", default=str(VAR_DIR / "sandbox")))
SANDBOX_PORT = env.int("HAPANEL_SANDBOX_PORT", default=3407)  # primary; the secondary uses the next port

METRICS_TOKEN = env.str("HAPANEL_METRICS_TOKEN", default="")
# Test connection reaches any host and port an admin types: a limit keeps it from serving as a port scanner.
CHECKS_PER_MINUTE = env.int("HAPANEL_CHECKS_PER_MINUTE", default=20)

# Alerts (alerts): Django's email backend for email channels; delivery tuning for every channel.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hapanel@localhost")
ALERTS_TIMEOUT = env.float("HAPANEL_ALERTS_TIMEOUT", default=5.0)  # seconds, every request of every transport
ALERTS_MAX_ATTEMPTS = env.int("HAPANEL_ALERTS_MAX_ATTEMPTS", default=8)
ALERTS_BACKOFF = env.float("HAPANEL_ALERTS_BACKOFF", default=2.0)  # first retry after 2 s, then doubling, max 5 min
ALERTS_CLAIM_TIMEOUT = env.float("HAPANEL_ALERTS_CLAIM_TIMEOUT", default=30.0)  # a `sending` row older is re-sent
ALERTS_FLAG_AFTER = env.int("HAPANEL_ALERTS_FLAG_AFTER", default=3)  # failed deliveries in a row flag a channel
ALERTS_FLAP_FLIPS = env.int("HAPANEL_ALERTS_FLAP_FLIPS", default=4)  # more flips than this ...
ALERTS_FLAP_MINUTES = env.float("HAPANEL_ALERTS_FLAP_MINUTES", default=10.0)  # ... in this window: flapping
ALERTS_STABLE_SECONDS = env.float("HAPANEL_ALERTS_STABLE_SECONDS", default=300.0)  # no flip this long: stable
ALERTS_DIGEST_SECONDS = env.float("HAPANEL_ALERTS_DIGEST_SECONDS", default=300.0)  # held flips told this often
ALERTS_FLAP_HOLD = env.float("HAPANEL_ALERTS_FLAP_HOLD", default=30.0)  # Failed this long while flapping: alerted
# Flips whose alerts were never queued (a lost publish) are picked up after ALERTS_SWEEP_GRACE seconds, for
# ALERTS_SWEEP_WINDOW seconds after the flip; older ones are history, not news.
ALERTS_SWEEP_GRACE = env.float("HAPANEL_ALERTS_SWEEP_GRACE", default=5.0)
ALERTS_SWEEP_WINDOW = env.float("HAPANEL_ALERTS_SWEEP_WINDOW", default=3600.0)
CELERY_BEAT_SCHEDULE["alerts-sweep"] = {
    "task": "alerts.tasks.sweep_transitions", "schedule": 5.0, "options": {"expires": 5.0},
}
CELERY_BEAT_SCHEDULE["alerts-flapping"] = {
    "task": "alerts.tasks.close_flapping", "schedule": 10.0, "options": {"expires": 10.0},
}

# Emergency access (emergency): the vault schema in the monitored MySQL, the AES-256-GCM key of
# its secrets as "key-id:base64-of-32-bytes" (several comma-separated: the first encrypts, all decrypt;
# in development one is derived from SECRET_KEY), lockout, idle end and the primary reachability check.
VAULT_SCHEMA = env.str("HAPANEL_VAULT_SCHEMA", default="vault")
VAULT_KEY = env.str("HAPANEL_VAULT_KEY", default="")
EMERGENCY_LOCKOUT_FAILURES = env.int("HAPANEL_EMERGENCY_LOCKOUT_FAILURES", default=5)
EMERGENCY_LOCKOUT_MINUTES = env.float("HAPANEL_EMERGENCY_LOCKOUT_MINUTES", default=15.0)
EMERGENCY_IDLE_MINUTES = env.float("HAPANEL_EMERGENCY_IDLE_MINUTES", default=15.0)
EMERGENCY_REVEAL_SECONDS = env.int("HAPANEL_EMERGENCY_REVEAL_SECONDS", default=30)  # then hidden again
EMERGENCY_REACH_TIMEOUT = env.float("HAPANEL_EMERGENCY_REACH_TIMEOUT", default=0.5)  # seconds
EMERGENCY_REACH_CACHE = env.float("HAPANEL_EMERGENCY_REACH_CACHE", default=3.0)  # seconds, per process
EMERGENCY_COPY_WARN_SECONDS = env.float("HAPANEL_EMERGENCY_COPY_WARN_SECONDS", default=60.0)  # copy age
CELERY_BEAT_SCHEDULE["emergency-drain-outbox"] = {
    "task": "emergency.tasks.drain_outbox", "schedule": 3.0, "options": {"expires": 3.0},
}
# Vault consistency (emergency/vault_compare.py): each pair's two copies of the vault are compared this often;
# beat looks for pairs that are due every VAULT_COMPARE_TICK seconds, so a restarted beat loses no comparison.
VAULT_COMPARE_SECONDS = env.float("HAPANEL_VAULT_COMPARE_SECONDS", default=86400.0)
VAULT_COMPARE_TICK = min(60.0, VAULT_COMPARE_SECONDS)
CELERY_BEAT_SCHEDULE["vault-compare"] = {"task": "emergency.tasks.dispatch_vault_compares",
                                         "schedule": VAULT_COMPARE_TICK, "options": {"expires": VAULT_COMPARE_TICK}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Panel logins: the password check counts failures per user name and per client address (hapanel/login_throttle.py).
AUTHENTICATION_BACKENDS = ["hapanel.login_throttle.ThrottledModelBackend"]
LOGIN_LOCKOUT_FAILURES = env.int("HAPANEL_LOGIN_LOCKOUT_FAILURES", default=5)  # per user name
LOGIN_ADDRESS_FAILURES = env.int("HAPANEL_LOGIN_ADDRESS_FAILURES", default=20)  # per client address
LOGIN_LOCKOUT_MINUTES = env.float("HAPANEL_LOGIN_LOCKOUT_MINUTES", default=15.0)
SESSION_IDLE_MINUTES = env.float("HAPANEL_SESSION_IDLE_MINUTES", default=60.0)
# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed (hapanel/client_address.py).
TRUSTED_PROXIES = env.list("HAPANEL_TRUSTED_PROXIES", default=[])
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
# In development whitenoise serves straight from static/ (no collectstatic); in production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEVELOPMENT
WHITENOISE_AUTOREFRESH = DEVELOPMENT

# A form body this large is still read, so that an oversized paste (a 5 MB log in a certificate field) gets
# the field's own message (pairs/pem.py allows 64 kB) rather than a bare 400 from Django's 2.5 MB default.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEVELOPMENT)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS behind a proxy: the header the proxy sets (e.g. X-Forwarded-Proto), redirects and HSTS. The health
# check (docker-compose.yml asks http://127.0.0.1:8000/healthz) is never redirected.
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
