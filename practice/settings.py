"""Settings for the practice, read from the environment.

Nothing needs to be set for local development: without ``DATABASE_URL`` the
practice runs on an embedded SQLite file under ``var/``. Bad values fail loudly at
start-up rather than half-working in front of a client.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value, or set DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
elif not DEBUG and (
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    or SECRET_KEY.startswith(SECRET_KEY_INSECURE_PREFIX)
):
    # The same rule as Django's deploy check (security.W009), enforced at start-up instead of warned.
    raise ImproperlyConfigured(
        f"SECRET_KEY is too weak: use at least {SECRET_KEY_MIN_LENGTH} random characters "
        f"(for example: python -c 'import secrets; print(secrets.token_urlsafe(60))')."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Refusals in the product's look, with a way back to the page the form was on (templates/403_csrf.html).
CSRF_FAILURE_VIEW = "practice.views.csrf_failure"
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entries must start with http:// or https://; got {_origin!r}."
        )

INSTALLED_APPS = [
    # Django's admin with the practice's site: the owner's home, sections in plain words (practice.admin_mixins).
    "practice.admin_mixins.PracticeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "simple_history",
    "practice",
    "clients",
    "measures",
    "sessions.apps.TreatmentSessionsConfig",
    "portal",
    "workspace",
    "outcomes",
    "devtools",
    # Django's own form templates, for FORM_RENDERER below.
    "django.forms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "practice.middleware.DropNulBytesFromQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "practice.middleware.SessionTimeoutMiddleware",
    "practice.middleware.TwoFactorRequiredMiddleware",
    "practice.middleware.NoStoreWhenSignedInMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it turns a lockout noticed during sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "practice.urls"

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
                "practice.context_processors.roles",
                "practice.autosave.session_clock",
            ],
        },
    },
]

# Forms render with the project's templates, so templates/django/forms/ can draw a select's options inline.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "practice.wsgi.application"

# The embedded SQLite file lives in a git-ignored folder so a fresh clone runs as is.
_DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'practice.sqlite3'}"
try:
    _database = dj_database_url.parse(
        os.environ.get("DATABASE_URL") or _DEFAULT_DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database address this practice can use: {exc}") from None
if _database["ENGINE"] not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...) or SQLite (sqlite:///...).")
if _database["ENGINE"] == "django.db.backends.sqlite3":
    Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _database["CONN_MAX_AGE"] = 0
else:
    # Django's backend, reading timestamps with psycopg's compiled loader (practice/postgres/base.py says why).
    _database["ENGINE"] = "practice.postgres"
    # Behind PgBouncer in transaction mode server-side cursors break; see the README on production.
    _database["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False)
    # No JIT: PostgreSQL compiles any query whose estimated cost passes jit_above_cost, and a correlated subquery
    # per row of a large table is estimated high, so an admin list that runs in 10 ms spent 560 ms compiling.
    # Every query here is short and indexed. PgBouncer refuses startup options: there, set DATABASE_JIT_OFF=0
    # and ALTER DATABASE ... SET jit = off instead (README, "Production").
    if env_bool("DATABASE_JIT_OFF", True):
        _database.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Django's own psycopg pool, per process: useful with threaded workers.
    _pool_size = env_int("DATABASE_POOL_MAX_SIZE", 0)
    if _pool_size < 0:
        raise ImproperlyConfigured("DATABASE_POOL_MAX_SIZE must be 0 (no pool) or more.")
    if _pool_size:
        _database["CONN_MAX_AGE"] = 0
        _database.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": _pool_size}
DATABASES = {"default": _database}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Then: slows guessing of one username spread over many addresses (practice.sign_in).
    "practice.sign_in.SpreadGuessingBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Front-end packages come from the npm registry at setup time (package.json), never a CDN.
_NPM_PACKAGES = ["bootstrap", "chart.js", "chartjs-adapter-date-fns", "chartjs-plugin-annotation"]
STATICFILES_DIRS = [
    *((f"vendor/{package}", BASE_DIR / "node_modules" / package / "dist") for package in _NPM_PACKAGES),
    BASE_DIR / "static",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "practice@localhost")

# Behind a TLS-terminating proxy in production.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Sessions: signed out after 30 minutes without a request and 12 hours after signing in
# (practice.middleware.SessionTimeoutMiddleware); the cookie never outlives the absolute limit.
PRACTICE_SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
PRACTICE_SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT", 12 * 60 * 60)
# Signed-in pages warn this long before the idle limit, with "Stay signed in" (static/js/session_clock.js).
PRACTICE_SESSION_IDLE_WARNING = env_int("SESSION_IDLE_WARNING", 5 * 60)
SESSION_COOKIE_AGE = PRACTICE_SESSION_ABSOLUTE_TIMEOUT
# What was typed in a form is kept (practice.autosave) until the person could have signed in again after
# the absolute limit: that limit and half a day more, then purged.
PRACTICE_FORM_AUTOSAVE_MAX_AGE = PRACTICE_SESSION_ABSOLUTE_TIMEOUT + 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Addresses in the audit trail and for sign-in throttling: the number of proxies in front of the
# app that append to X-Forwarded-For (0 = use the connecting address).
PRACTICE_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Sign-in throttling (django-axes): five failures for one username from one address lock that
# pair for 15 minutes. Locking by the pair means nobody can lock a therapist out from elsewhere.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Across all addresses: after this many failed password checks for one username within the cool-off
# time, its password is checked at most once per PRACTICE_SIGN_IN_COOLDOWN seconds (practice.sign_in).
# The key of the audit trail's hash chain (an HMAC): from the environment, never in the database, so
# someone who can rewrite the database cannot rewrite the chain to match. Without AUDIT_CHAIN_KEY it is
# derived from SECRET_KEY; set it on its own so that SECRET_KEY can be rotated (practice.audit).
PRACTICE_AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY", "")
if PRACTICE_AUDIT_CHAIN_KEY and len(PRACTICE_AUDIT_CHAIN_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_CHAIN_KEY must be at least 32 random characters.")
PRACTICE_SIGN_IN_CEILING = 10
PRACTICE_SIGN_IN_COOLDOWN = 30
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "practice.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "practice.security.client_ip"
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit trail (practice.AuditEvent)
AXES_ENABLE_ADMIN = False  # practice.admin shows lockouts to owners instead
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Two-factor sign-in (django-otp, TOTP with recovery codes): required for owners and therapists
# whenever DEBUG is off; the local demo may run without it so a new user can look around at once.
PRACTICE_REQUIRE_2FA = env_bool("PRACTICE_REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "MS massage practice")

# Content-Security-Policy (django-csp): nothing inline, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}

# Change history is for reading: no "revert to this version" should an admin page offer it
# (corrections go through the forms, and signed sessions through amendments).
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Sign-ins and failures are in the audit trail; axes would log each one again.
    "loggers": {"axes": {"level": os.environ.get("AXES_LOG_LEVEL", "WARNING")}},
}
