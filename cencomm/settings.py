"""Settings for the CENcomm-style hub, driven by the environment.

With nothing set, the hub runs as a local demo: SQLite and a generated secret key in ``var/``,
the in-memory channel layer. ``CENCOMM_ENV=production`` refuses every insecure default.
Every variable is documented in ``.env.example``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CENCOMM_VAR_DIR", BASE_DIR / "var"))


# --- strict helpers ------------------------------------------------------------------------------


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {raw!r}")
    return value == "true"


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str:
    """A secret from ``NAME`` or from the file that ``NAME_FILE`` names."""
    value = env_str(name)
    path = env_str(f"{name}_FILE")
    if value and path:
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return value


def demo_secret_file(filename: str, make: Callable[[], str]) -> str:
    """A secret generated once into ``var/`` for the zero-configuration demo."""
    path = VAR_DIR / filename
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def database_from_url(name: str, url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "sqlite"):
        raise ImproperlyConfigured(
            f"{name} must start with postgres:// or sqlite://, not {parts.scheme or 'nothing'!r}"
        )
    try:
        import dj_database_url

        # Under ASGI each request runs in its own thread: persistent connections would pile up
        # (one per thread) until PostgreSQL refuses more. So connections are "closed" after each
        # request and each consumer call, into a pool that hands them out again at once.
        config = dj_database_url.parse(url, conn_max_age=0)
    except Exception as exc:  # dj-database-url raises several types for a malformed URL
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from None
    if config["ENGINE"].endswith("postgresql"):
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} names no database")
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env_int("CENCOMM_DB_POOL_SIZE", 20, minimum=1),
            "timeout": 10,
        }
    return config


# --- mode --------------------------------------------------------------------------------------

CENCOMM_ENV = env_str("CENCOMM_ENV", "development")
if CENCOMM_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"CENCOMM_ENV must be 'development' or 'production', not {CENCOMM_ENV!r}")
PRODUCTION = CENCOMM_ENV == "production"
TESTING = env_bool("CENCOMM_TESTING", False)  # adds the test client's host and origin

DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be false when CENCOMM_ENV=production")

SECRET_KEY = env_secret("SECRET_KEY")
if PRODUCTION:
    if not SECRET_KEY or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set to at least 50 random characters "
            "when CENCOMM_ENV=production"
        )
elif not SECRET_KEY:
    SECRET_KEY = demo_secret_file("secret_key", lambda: secrets.token_urlsafe(50))

# The master key wraps every data key. It never enters the database.
CENCOMM_MASTER_KEY = env_secret("CENCOMM_MASTER_KEY")
if PRODUCTION and not CENCOMM_MASTER_KEY:
    raise ImproperlyConfigured(
        "CENCOMM_MASTER_KEY (or CENCOMM_MASTER_KEY_FILE) must be set when CENCOMM_ENV=production"
    )
if not CENCOMM_MASTER_KEY:
    from base64 import urlsafe_b64encode

    CENCOMM_MASTER_KEY = demo_secret_file(
        "master.key", lambda: urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )

# Previous master keys, still accepted for unwrapping while a re-wrap rolls out (comma-separated;
# or from the file CENCOMM_PREVIOUS_MASTER_KEYS_FILE names, like every secret).
CENCOMM_PREVIOUS_MASTER_KEYS = [
    key.strip() for key in env_secret("CENCOMM_PREVIOUS_MASTER_KEYS").split(",") if key.strip()
]


def _check_master_key(name: str, encoded: str) -> None:
    from base64 import urlsafe_b64decode

    try:
        raw = urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{name} must be 32 random bytes in URL-safe base64")


_check_master_key("CENCOMM_MASTER_KEY", CENCOMM_MASTER_KEY)
for _previous in CENCOMM_PREVIOUS_MASTER_KEYS:
    _check_master_key("CENCOMM_PREVIOUS_MASTER_KEYS", _previous)

PORT = env_int("PORT", 8000, minimum=1)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if TESTING:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
if PRODUCTION and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must list the hub's host names (not '*') when CENCOMM_ENV=production"
    )

# WebSocket connections are accepted only from these exact origins (scheme, host and port).
CENCOMM_ALLOWED_ORIGINS = env_list(
    "CENCOMM_ALLOWED_ORIGINS",
    [f"https://{host}" for host in ALLOWED_HOSTS]
    if PRODUCTION
    else [f"http://127.0.0.1:{PORT}", f"http://localhost:{PORT}"],
)
if TESTING:
    CENCOMM_ALLOWED_ORIGINS = [*CENCOMM_ALLOWED_ORIGINS, "http://testserver"]
CSRF_TRUSTED_ORIGINS = CENCOMM_ALLOWED_ORIGINS


# --- applications ------------------------------------------------------------------------------

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "channels",
    "ninja",  # its static Swagger UI: /api/v1/docs works with no network
    "django_tasks",  # Django's tasks framework (the backport of Django 6's django.tasks)
    "django_tasks_db",  # its database backend: the report queue (reports.services)
    "cencomm",
    "operations",
    "products",
    "messaging",
    "results",
    "reports",
    "records",
    "hub",
    "frontend",
]

MIDDLEWARE = [
    "cencomm.logging.RequestIdMiddleware",  # first: every record of the request carries its ID
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "cencomm.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cencomm.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
ASGI_APPLICATION = "asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "frontend.i18n.ui_strings",
            ],
        },
    },
]


# --- data ---------------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url("DATABASE_URL", DATABASE_URL)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "cencomm.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Connections each process may open to Redis at once. A burst of reconnecting sockets needs one per
# socket in flight; past this number redis-py refuses with MaxConnectionsError (its default is 100).
CENCOMM_REDIS_MAX_CONNECTIONS = env_int("CENCOMM_REDIS_MAX_CONNECTIONS", 2000, minimum=10)


def redis_channel_layer(url: str, prefix: str) -> dict:
    # channels-redis waits for messages with a 5-second BZPOPMIN; redis-py's default read timeout is
    # also 5 seconds, so under load the read timed out first and the socket's consumer crashed.
    # No redis-py health_check_interval or Retry: with them a cancelled socket's blocking receive
    # never finished (the event loop's shutdown waited on it for good). A dead pooled connection
    # after a Redis restart fails one command; the sockets' joins and the hints tolerate that.
    host = {
        "address": url,
        "max_connections": CENCOMM_REDIS_MAX_CONNECTIONS,
        "socket_timeout": 15,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
    }
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [host],
            "prefix": prefix,
            "capacity": 1000,
            "expiry": 30,
        },
    }


if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")
    CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL, env_str("CENCOMM_CHANNEL_PREFIX", "cencomm"))}
else:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "REDIS_URL must be set when CENCOMM_ENV=production: the in-memory channel layer "
            "does not reach across processes"
        )
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }


# --- sign-in -----------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

AXES_FAILURE_LIMIT = env_int("CENCOMM_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("CENCOMM_LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
# Lock the account under attack, not the office: officers at one border post share an address.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "frontend.views.locked_out"
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# TOTP: one code per 30-second step, one step of drift either way; failures slow verification
# exponentially and CENCOMM_OTP_FAILURE_LIMIT failures lock the second step for a while.
OTP_TOTP_ISSUER = env_str("CENCOMM_OTP_ISSUER", "CENcomm hub")
OTP_TOTP_THROTTLE_FACTOR = 1
CENCOMM_OTP_FAILURE_LIMIT = env_int("CENCOMM_OTP_FAILURE_LIMIT", 5, minimum=1)

SESSION_COOKIE_AGE = env_int("CENCOMM_SESSION_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = False  # the pages' scripts send it as X-CSRFToken

SILENCED_SYSTEM_CHECKS = ["axes.W006"]  # lock-out is per user name on purpose (see above)
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:  # preloading is a decision for the deployment's owner
        SILENCED_SYSTEM_CHECKS.append("security.W021")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


# --- limits ------------------------------------------------------------------------------------

CENCOMM_API_TOKEN_MAX_DAYS = env_int("CENCOMM_API_TOKEN_MAX_DAYS", 90, minimum=1)

# The bearer token Prometheus sends to /metrics (cencomm.metrics); unset, /metrics answers 404.
CENCOMM_METRICS_TOKEN = env_secret("CENCOMM_METRICS_TOKEN")
if CENCOMM_METRICS_TOKEN and len(CENCOMM_METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("CENCOMM_METRICS_TOKEN (or CENCOMM_METRICS_TOKEN_FILE) must be 32+ characters")
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
CENCOMM_UPLOAD_MAX_BYTES = env_int("CENCOMM_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Reports: a thread in the web process runs the queued report tasks (the demo needs no other
# process); in production run `manage.py db_worker --queue-name reports` instead (reports/services.py).
CENCOMM_REPORT_THREAD = env_bool("CENCOMM_REPORT_THREAD", not PRODUCTION and not TESTING)
# The tasks framework: report jobs are rows in this database (django_tasks_db), run by db_worker.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["reports"]}}


# --- static files, time, language --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("CENCOMM_STATIC_ROOT") or BASE_DIR / "staticfiles")  # collectstatic's output
# Production: hashed names (cached for good). Not WhiteNoise's compressed variant: nginx serves and
# compresses /static/ (deploy/nginx/cencomm.conf), and brotli at build time made collectstatic take
# minutes; WhiteNoise still serves the hashed files to a deployment without the proxy's static alias.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING or not PRODUCTION
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

LANGUAGE_CODE = "en"
# CENcomm's six interface languages. Officers' pages (sign-in, the post form, rooms) are translated;
# the browser's language is used until the user picks one (kept in a cookie).
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt", "Português"),
    ("ru", "Русский"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True


# --- logging -----------------------------------------------------------------------------------
# One line per record, control characters escaped (cencomm.logging.SafeFormatter), so a value that
# carries CR/LF cannot forge a log line. Nothing logs message text or sensitive fields.

# CENCOMM_LOG_FORMAT=json (the default in production): one JSON object per line with the work's
# request_id (cencomm.logging.JsonFormatter); text (the default otherwise) for reading in a terminal.
CENCOMM_LOG_FORMAT = env_str("CENCOMM_LOG_FORMAT", "json" if PRODUCTION else "text")
if CENCOMM_LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"CENCOMM_LOG_FORMAT must be 'json' or 'text', not {CENCOMM_LOG_FORMAT!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {
            "()": "cencomm.logging.SafeFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "cencomm.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": CENCOMM_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}
