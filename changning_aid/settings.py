"""Settings of changning_aid, all switched by the environment (django-environ).

Read from the process environment, or from a `.env` file beside `manage.py`
(see `.env.example`). The embedded default is SQLite; production runs on
PostgreSQL through `DATABASE_URL=postgres://...`.
"""

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
)
# ENV_FILE points elsewhere (or at /dev/null) when the .env beside manage.py must not count.
environ.Env.read_env(os.environ.get("ENV_FILE", BASE_DIR / ".env"), overwrite=False)

DEBUG = env("DEBUG")
# The test suite runs under pytest with no environment to speak of.
TESTING = "pytest" in sys.modules
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("生产环境必须设置 SECRET_KEY 环境变量。")
    SECRET_KEY = "insecure-development-key-never-use-in-production"
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "changning_aid.admin_apps.ChangningAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    # Logins: lockouts after failed logins (django-axes), the second factor (django-otp),
    # the Content-Security-Policy header (django-csp).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "changning_aid",
    "accounts",
    "stations",
    "advisors",
    "cases",
    "visits",
    "notifications",
    "supervision",
    # The audit trail: database triggers record every change (audit/tracking.py).
    "pgtrigger",
    "pghistory",
    "audit",
]
if TESTING:
    # A test-only model carrying every kind of sensitive field (tests/sensitive_app).
    INSTALLED_APPS.append("tests.sensitive_app")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the collected STATIC_ROOT, compressed and cached for good.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Query strings with NUL characters are refused before any view reads them.
    "changning_aid.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this login passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The roles of OTP_REQUIRED_ROLES bind and use an authenticator before anything else.
    "accounts.second_factor.SecondFactorMiddleware",
    # A new or reset login changes its temporary password before anything else.
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Who, from where and why, for the audit trail's change records (PostgreSQL only).
    "audit.middleware.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "changning_aid.urls"

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
                "changning_aid.context_processors.navigation",
                "changning_aid.context_processors.unread_notifications",
                "csp.context_processors.nonce",
            ],
        },
    },
]

WSGI_APPLICATION = "changning_aid.wsgi.application"
ASGI_APPLICATION = "changning_aid.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Let a running server and a management command share the file.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    # PostgreSQL's JIT compiles the large report queries for longer than they then run
    # (a refresh of 20,000 people's summaries: 132 s with it, 30 s without): off for the
    # application's connections; an `options` in DATABASE_URL's query string is kept.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# Each server process keeps its connection between requests (CONN_MAX_AGE seconds) and checks
# it before reuse, so that a restarted database costs a reconnection, not a failed request.
# Development's runserver opens a thread per request: there, a connection per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "CONN_MAX_AGE", default=0 if DEBUG or TESTING else 60
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# A read-only replica of the PostgreSQL database (optional, streaming replication): the
# heavy report reads go there (changning_aid/db_router.py), everything else to the primary.
# Its connections cannot write (default_transaction_read_only) and skip JIT as the primary's
# do; an `options` in DATABASE_REPLICA_URL's query string is kept instead. Under the tests
# it is the test database itself (MIRROR).
if env("DATABASE_REPLICA_URL", default=""):
    _replica = env.db("DATABASE_REPLICA_URL")
    if not (
        _replica["ENGINE"].endswith("postgresql")
        and DATABASES["default"]["ENGINE"] == _replica["ENGINE"]
    ):
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL 只能与 PostgreSQL 的 DATABASE_URL 一起使用,"
            "且须指向同一数据库的只读副本(postgres://...)。"
        )
    _replica.setdefault("OPTIONS", {}).setdefault(
        "options", "-c jit=off -c default_transaction_read_only=on"
    )
    _replica["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["changning_aid.db_router.ReportReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses a locked username before any password is checked.
AUTHENTICATION_BACKENDS = [
    "accounts.lockouts.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        # Django's, with its message in Chinese.
        "NAME": "changning_aid.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    # 3 of lower case, upper case, digits and symbols; no username inside the password.
    {"NAME": "changning_aid.password_validation.CharacterClassesValidator"},
    {"NAME": "changning_aid.password_validation.UsernameInPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if TESTING:
    # Hashing is not what the tests are about; keep them fast.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# A session ends after 30 minutes without a request, and when the browser closes.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# Production answers HTTPS only, with TLS ended at the reverse proxy, which must set
# X-Forwarded-Proto (replacing any the client sent). On unless DEBUG is on or under the
# tests; HTTPS=off only for a server reached over plain HTTP on a closed network.
HTTPS = env.bool("HTTPS", default=not (DEBUG or TESTING))
# LOCAL=on (`make serve LOCAL=1`): the production settings tried on this machine over plain
# HTTP (http://127.0.0.1:8000), without a proxy. Only the redirect to HTTPS and the Secure
# flag of the cookies are off (HSTS is only ever sent over HTTPS); it refuses any host name
# but the loopback's, so that it cannot serve the network by mistake.
LOCAL = env.bool("LOCAL", default=False)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
if LOCAL and not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
    raise ImproperlyConfigured(
        "LOCAL=on 只用于在本机试运行:ALLOWED_HOSTS 只能是 127.0.0.1、localhost 或 ::1。"
    )
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = not LOCAL
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = not LOCAL
    CSRF_COOKIE_SECURE = not LOCAL
# Origins (https://host) other than the site's own that may post forms to it.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): this site's own files only, no inline style
# attributes, and a script written into a page runs only with the request's nonce
# (<script nonce="{{ CSP_NONCE }}">).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# The client's address (changning_aid.net.client_ip): X-Forwarded-For is believed only
# from these proxies, addresses or networks, comma-separated (e.g. 127.0.0.1,::1 for a
# proxy on the same machine). Empty: every request's own address is the client's.
TRUSTED_PROXIES = [entry.strip() for entry in env.list("TRUSTED_PROXIES", default=[])]
TRUSTED_PROXIES = [entry for entry in TRUSTED_PROXIES if entry]

# Five failed logins in a row lock the username for 15 minutes; by username only, so an
# office behind one address is never locked out together. Kept in the database, so that
# every app server agrees (django-axes, accounts/lockouts.py).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
# Attempts while locked are refused without being counted: the lock ends 15 minutes
# after the fifth failure, however often someone keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "changning_aid.net.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockouts.lockout_response"
# Bureau staff see lockouts on their scoped page, not in axes' unscoped admin.
AXES_ENABLE_ADMIN = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
SILENCED_SYSTEM_CHECKS = [
    # axes warns whenever the address is not part of the lock. Locking by address would
    # lock out a whole office behind one address; the username's failures are summed
    # over every address and browser, so rotating them gains an attacker nothing.
    "axes.W006",
]

# The second factor (django-otp, TOTP): every role may bind an authenticator app; these
# roles must (accounts/second_factor.py). Comma-separated; empty for none.
OTP_REQUIRED_ROLES = [
    role.strip()
    for role in env.list("OTP_REQUIRED_ROLES", default=["system_admin", "audit_admin", "bureau"])
    if role.strip()
]
if TESTING:
    # Tests log in with force_login, which never passes the login form; the tests of
    # the second factor turn it on with the settings fixture.
    OTP_REQUIRED_ROLES = []
OTP_TOTP_ISSUER = "长宁区社区救助顾问"

# Uploaded division files up to 20 MB (the city-wide CSV is about 0.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# Compliance verdicts (DOMAIN.md, "How the rules are judged"): a figure below its target
# but within this many percentage points of it is amber rather than red.
COMPLIANCE_AMBER_POINTS = env.float("COMPLIANCE_AMBER_POINTS", default=5.0)
# C4: the facilities of a street station (DOMAIN.md, "How the rules are judged").
STATION_MIN_WORKSPACE_M2 = env.int("STATION_MIN_WORKSPACE_M2", default=20)
STATION_MIN_DESK_SETS = env.int("STATION_MIN_DESK_SETS", default=2)
STATION_MIN_COMPUTERS = env.int("STATION_MIN_COMPUTERS", default=1)
# L1 (advice): a committee point whose current recipients per active advisor exceed this
# multiple of the district median should add advisors.
ADVICE_LOAD_FACTOR = env.float("ADVICE_LOAD_FACTOR", default=1.5)

# The audit trail is kept at least this many days (never less than 180); `purge_audit`
# deletes only what is older.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=180)

# A person who left the register more than this many years ago is anonymised by
# `run_scheduled` (name, ID number, phone and address cleared; counts and history stay).
RECIPIENT_RETENTION_YEARS = env.int("RECIPIENT_RETENTION_YEARS", default=5)
# 政策找人: a lead open longer than this many days is overdue (shown to the advisor and the
# street manager, counted in the street's figures); a lead closed as 不符合 or 无法联系 is
# anonymised this many days after it was closed.
LEAD_VISIT_DAYS = env.int("LEAD_VISIT_DAYS", default=15)
LEAD_RETENTION_DAYS = env.int("LEAD_RETENTION_DAYS", default=365)
# A list uploaded but never mapped and processed is dropped after this many hours.
LEAD_UPLOAD_KEEP_HOURS = env.int("LEAD_UPLOAD_KEEP_HOURS", default=24)

DEMO_PASSWORD = env("DEMO_PASSWORD", default="Changning-2023")

# Sensitive values (changning_aid.sensitive.crypto). SM4-GCM keys for ID numbers as
# comma-separated `keyid:base64key` (16 bytes each), the first current, the others kept to
# read older ciphertexts (rotate with `manage.py rotate_field_keys`); the HMAC-SM3 key of
# their lookup hash. Development and tests derive keys from SECRET_KEY when these are empty;
# production refuses to encrypt without them, and `check --deploy` reports them missing.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
FIELD_HASH_KEY = env("FIELD_HASH_KEY", default="")

# Uploaded import files (changning_aid.uploads): the largest accepted, and how long one
# waits for its confirmation before `purge_uploads` (or the next upload) deletes it.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
UPLOAD_RETENTION_SECONDS = env.int("UPLOAD_RETENTION_SECONDS", default=60 * 60)

# Uploaded photos and files (inspection findings, rectification evidence) live on the
# default storage below MEDIA_ROOT (outside the web root, in .gitignore). They are never
# served at a public URL (no MEDIA_URL route): only through the scoped download views of
# `supervision`. Under the tests they go to a scratch folder.
MEDIA_ROOT = env(
    "MEDIA_ROOT",
    default=str(
        Path(tempfile.gettempdir()) / "changning_aid-test-media" if TESTING else BASE_DIR / "media"
    ),
)
# Several app servers share one storage: MEDIA_ROOT on a shared file system, or another
# Django storage by MEDIA_STORAGE (its dotted path) with MEDIA_STORAGE_OPTIONS (JSON), e.g.
# django-storages' S3 storage for an object store inside the government cloud.
FILE_SYSTEM_STORAGE = "django.core.files.storage.FileSystemStorage"
MEDIA_STORAGE = env("MEDIA_STORAGE", default=FILE_SYSTEM_STORAGE)
_media_options = env.json("MEDIA_STORAGE_OPTIONS", default={})
if MEDIA_STORAGE == FILE_SYSTEM_STORAGE:
    _media_options = {
        "file_permissions_mode": 0o640,
        "directory_permissions_mode": 0o750,
        **_media_options,
    }
STORAGES = {
    "default": {"BACKEND": MEDIA_STORAGE, "OPTIONS": _media_options},
    # Production serves `collectstatic`'s copies (WhiteNoise): names carrying a hash of the
    # content, cached by browsers for good, with gzip variants. Development and the tests
    # serve the files where they are, without a `collectstatic` first.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Development and the tests look files up as they are asked for (no STATIC_ROOT needed).
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# ---- Service evaluation (服务评议, issue 5: cases/views/evaluations.py) ----------------------
# The cache holds the public evaluation page's flood counters (cases/throttle.py). Server
# processes must share one cache or each counts apart: in production the default is the
# database's table `changning_cache` (made by `manage.py createcachetable`); development and
# the tests keep it in the process's memory. Redis: CACHE_URL=rediscache://127.0.0.1:6379/1
# (needs the `redis` package).
CACHES = {
    "default": env.cache(
        "CACHE_URL",
        default="locmemcache://" if DEBUG or TESTING else "dbcache://changning_cache",
    )
}
# Ratings the public page takes from one client (network address; an IPv6 /64): per station
# in an hour, over all stations in a day; and from everyone together per station in an hour.
EVALUATION_LIMIT_PER_STATION_HOUR = env.int("EVALUATION_LIMIT_PER_STATION_HOUR", default=5)
EVALUATION_LIMIT_PER_DAY = env.int("EVALUATION_LIMIT_PER_DAY", default=20)
EVALUATION_LIMIT_STATION_HOUR = env.int("EVALUATION_LIMIT_STATION_HOUR", default=300)
# The address the public reaches this site at (https://host, no path), for the stations'
# QR codes: staff print them from the intranet, whose address the public may not reach.
# Empty: the QR code carries the address the page was opened at.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="").strip().rstrip("/")
if PUBLIC_BASE_URL and not PUBLIC_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        "PUBLIC_BASE_URL 必须以 https:// 或 http:// 开头,例如 https://example.gov.cn。"
    )
# ---- End of service evaluation -----------------------------------------------------------------

# ---- Notifications (通知, issue 7: notifications/) ------------------------------------------
# In-app notifications always; e-mail as well where a server is configured, by EMAIL_URL
# (smtp+tls://user:password@smtp.example.gov.cn:587, smtp+ssl://...:465, smtp://host:25)
# or by EMAIL_HOST with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
# EMAIL_USE_SSL. Without either, development (DEBUG) prints the e-mails on the console and
# production sends none: Django's default, SMTP on localhost:25, is never tried by accident.
# NOTIFICATION_EMAIL=off turns e-mail off whatever is configured.
if env("EMAIL_URL", default=""):
    _email = env.email_url("EMAIL_URL")
elif env("EMAIL_HOST", default=""):
    _email = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": env("EMAIL_HOST"),
        "EMAIL_PORT": env.int("EMAIL_PORT", default=0),
        "EMAIL_HOST_USER": env("EMAIL_HOST_USER", default=""),
        "EMAIL_HOST_PASSWORD": env("EMAIL_HOST_PASSWORD", default=""),
        "EMAIL_USE_TLS": env.bool("EMAIL_USE_TLS", default=False),
        "EMAIL_USE_SSL": env.bool("EMAIL_USE_SSL", default=False),
    }
else:
    _email = {}
if _email:
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS 和 EMAIL_USE_SSL 只能开启其中一个。")
    EMAIL_PORT = _email.get("EMAIL_PORT") or (
        465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25
    )
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# Whether notifications are e-mailed (notifications.services.send_emails).
NOTIFICATION_EMAIL = env.bool("NOTIFICATION_EMAIL", default=True) and not EMAIL_BACKEND.endswith(
    ".dummy.EmailBackend"
)
# A slow server must not hold up the daily jobs for long.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="长宁区社区救助顾问 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address staff open this system at (https://host, no path), for the links in
# notification e-mails; empty: the e-mails ask the reader to log in and look.
SITE_BASE_URL = env("SITE_BASE_URL", default="").strip().rstrip("/")
if SITE_BASE_URL and not SITE_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        "SITE_BASE_URL 必须以 https:// 或 http:// 开头,例如 https://aid.example.gov.cn。"
    )
# ---- End of notifications ----------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
