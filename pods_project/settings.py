"""Settings for the Pods Service, configured only by environment variables.

Local development works with no configuration at all (DEBUG defaults to on, Postgres and Redis
on 127.0.0.1). With ``DJANGO_DEBUG=false`` every secret must be given explicitly and a malformed
value stops the process at start-up instead of surfacing later. Each variable may also be read
from a file named by ``<NAME>_FILE`` (mounted secrets). All variables are listed in
``.env.example`` and in the README.
"""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
if (BASE_DIR / ".env").is_file():
    environ.FileAwareEnv.read_env(BASE_DIR / ".env")


def _required_in_production(name, dev_default):
    """Return the variable, or a development default only while DEBUG is on."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off")


try:
    DEBUG = env.bool("DJANGO_DEBUG", default=True)
except ValueError as exc:  # environ raises ValueError for e.g. DJANGO_DEBUG=maybe
    raise ImproperlyConfigured(f"DJANGO_DEBUG is malformed: {exc}") from exc

# --- Core --------------------------------------------------------------------------------------
SECRET_KEY = _required_in_production("DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First, so its templates (the admin login page with the OIDC button) override the admin's.
    "pods",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "templates_catalog",
    "workers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "pods_project.middleware.CollapseSlashesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pods_project.urls"
WSGI_APPLICATION = "pods_project.wsgi.application"
# The API serves `/v3/pods` and `/v3/pods/x` without trailing slashes, like upstream.
APPEND_SLASH = False

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
                "pods.identity.admin_login.oidc_context",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
try:
    DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/pods")}
except (ValueError, KeyError, ImproperlyConfigured) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from exc
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Concurrent test runs on one machine (several developers, or CI beside a developer) each need
# their own test database.
DATABASES["default"]["TEST"] = {"NAME": env.str("PODS_TEST_DATABASE", default="") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery --------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Prefix of the keys the service keeps in Redis (locks, cluster health, orphan clock), so two
# deployments (or a test run beside `make run`) can share one Redis.
PODS_REDIS_PREFIX = env.str("PODS_REDIS_PREFIX", default="pods")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must be a redis://, rediss:// or unix:// URL")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="pods")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only after it ran, so a worker that dies mid-task leaves it to be
# redelivered; every task is idempotent for that reason.
CELERY_TASK_ACKS_LATE = True
# Not re-queued when the worker process dies: a poison task would loop forever (celery#8969).
# The reconcile sweep re-drives whatever such a task left half done.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On SIGTERM, give running tasks a moment and hand unacknowledged ones back to the broker.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10.0
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Redis redelivers an unacknowledged task after the visibility timeout. Every time limit stays
# well below it, otherwise a long task would be run twice (a known Read the Docs incident).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
if CELERY_TASK_TIME_LIMIT >= CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must be below CELERY_VISIBILITY_TIMEOUT")
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# Periodic work. Keys name their cadence; later capabilities add entries here.
CELERY_BEAT_SCHEDULE = {}  # filled in below, once the reconciler settings are read

# --- Secrets at rest ---------------------------------------------------------------------------
# Comma-separated; the first encrypts, all decrypt (rotation). Development derives one from the
# secret key so nothing needs configuring locally.
PODS_ENCRYPTION_KEYS = env.list("PODS_ENCRYPTION_KEYS", default=[])
if not PODS_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("PODS_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off")
    PODS_ENCRYPTION_KEYS = [f"dev:{SECRET_KEY}"]

# --- Identity ----------------------------------------------------------------------------------
# Clock skew tolerated when checking token expiry, in seconds.
PODS_JWT_LEEWAY = env.int("PODS_JWT_LEEWAY", default=30)
# How long a fetched OIDC JWKS is trusted before it is fetched again (an unknown `kid` refetches).
PODS_OIDC_JWKS_TTL = env.int("PODS_OIDC_JWKS_TTL", default=300)
PODS_OIDC_HTTP_TIMEOUT = env.float("PODS_OIDC_HTTP_TIMEOUT", default=5.0)

# Browser login to the admin site through OIDC (mozilla-django-oidc), only when configured.
# Staff accounts must already exist; they are matched by the username claim, never by email.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_RP_SCOPES = "openid email profile"
    OIDC_TIMEOUT = PODS_OIDC_HTTP_TIMEOUT
    OIDC_CREATE_USER = False
    OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="preferred_username")
    LOGIN_REDIRECT_URL = "/admin/"
    LOGOUT_REDIRECT_URL = "/admin/"
AUTHENTICATION_BACKENDS = (
    ["pods.identity.admin_login.StaffOIDCBackend"] if OIDC_ENABLED else []
) + ["django.contrib.auth.backends.ModelBackend"]

# --- Kubernetes ----------------------------------------------------------------------------------
# Only the worker and beat talk to the cluster. With no kubeconfig, in-cluster config is used
# (service account); `make run` starts kubesim and points KUBECONFIG at it.
_default_kubeconfig = Path.home() / ".kube" / "config"
PODS_KUBECONFIG = env.str("KUBECONFIG", default=str(_default_kubeconfig) if _default_kubeconfig.is_file() else "")
PODS_KUBE_CONTEXT = env.str("PODS_KUBE_CONTEXT", default="")
# Overrides the kubeconfig's server URL (e.g. k3s writes https://127.0.0.1:6443, which another
# container reaches as https://k3s:6443).
PODS_KUBE_SERVER = env.str("PODS_KUBE_SERVER", default="")
PODS_KUBE_NAMESPACE = env.str("PODS_KUBE_NAMESPACE", default="default")
PODS_KUBE_REQUEST_TIMEOUT = env.float("PODS_KUBE_REQUEST_TIMEOUT", default=10.0)
PODS_KUBE_POOL_SIZE = env.int("PODS_KUBE_POOL_SIZE", default=32)
# Attempts for transient API errors (429, 5xx, connection), with exponential backoff and jitter.
PODS_KUBE_ATTEMPTS = env.int("PODS_KUBE_ATTEMPTS", default=4)
PODS_KUBE_BACKOFF_MAX = env.float("PODS_KUBE_BACKOFF_MAX", default=5.0)
# Per compute queue: node selector, tolerations and the resource name GPUs are requested as.
# JSON, e.g. {"gpu": {"node_selector": {"pool": "gpu"}, "tolerations": [...],
#                     "gpu_resource": "nvidia.com/gpu"}}
PODS_COMPUTE_QUEUE_CONFIG = env.json("PODS_COMPUTE_QUEUE_CONFIG", default={})
PODS_GPU_RESOURCE = env.str("PODS_GPU_RESOURCE", default="nvidia.com/gpu")
# Seconds a stopping pod's processes get to shut down cleanly (SIGTERM, then SIGKILL).
PODS_STOP_GRACE_SECONDS = env.int("PODS_STOP_GRACE_SECONDS", default=30)

# --- Reconciler ----------------------------------------------------------------------------------
PODS_SWEEP_SECONDS = env.float("PODS_SWEEP_SECONDS", default=5.0)
# A pod starting (REQUESTED / SPAWNER SETUP / CREATING) with no Kubernetes pod for this long is
# spawned again: its task was lost, its worker died, or the cluster was down.
PODS_REDRIVE_SECONDS = env.int("PODS_REDRIVE_SECONDS", default=60)
# Managed objects with no pod row (or of an older run) are deleted once this old, so an object
# created by an in-flight spawn is never mistaken for an orphan.
PODS_ORPHAN_GRACE_SECONDS = env.int("PODS_ORPHAN_GRACE_SECONDS", default=60)
PODS_LOG_COLLECT_SECONDS = env.float("PODS_LOG_COLLECT_SECONDS", default=10.0)
# Logs kept per run of a pod; the oldest lines are dropped beyond it.
PODS_LOG_MAX_BYTES = env.int("PODS_LOG_MAX_BYTES", default=10 * 1024 * 1024)
# Bytes fetched per pod per collection (bounded work per beat).
PODS_LOG_FETCH_BYTES = env.int("PODS_LOG_FETCH_BYTES", default=1024 * 1024)
# Pods visited per log-collection pass (least recently collected first), bounding each pass.
PODS_LOG_PODS_PER_PASS = env.int("PODS_LOG_PODS_PER_PASS", default=200)
# Recent Warning events kept per pod (shown in the admin and status messages).
PODS_WARNINGS_KEPT = env.int("PODS_WARNINGS_KEPT", default=10)

CELERY_BEAT_SCHEDULE.update({
    # Each run expires before the next is due, so a backlog never piles up.
    "sweep-every-PODS_SWEEP_SECONDS": {
        "task": "workers.sweep", "schedule": PODS_SWEEP_SECONDS, "options": {"expires": PODS_SWEEP_SECONDS},
    },
    "collect-logs-every-PODS_LOG_COLLECT_SECONDS": {
        "task": "workers.collect_logs", "schedule": PODS_LOG_COLLECT_SECONDS,
        "options": {"expires": PODS_LOG_COLLECT_SECONDS},
    },
})

# --- Proxy (Traefik) -----------------------------------------------------------------------------
PODS_TRAEFIK_HTTP_ENTRYPOINT = env.str("PODS_TRAEFIK_HTTP_ENTRYPOINT", default="websecure")
PODS_TRAEFIK_TCP_ENTRYPOINT = env.str("PODS_TRAEFIK_TCP_ENTRYPOINT", default="websecure")
# Empty: TLS with Traefik's default certificate.
PODS_TRAEFIK_CERT_RESOLVER = env.str("PODS_TRAEFIK_CERT_RESOLVER", default="letsencrypt")
# Where Traefik reaches this service (forwardAuth for pods with tapis_auth).
PODS_PUBLIC_URL = env.str("PODS_PUBLIC_URL", default="http://localhost:8000")
# When set, /traefik-config (every running pod's route) answers only requests carrying it in the
# X-Pods-Traefik-Config-Secret header, which Traefik's HTTP provider sends. Empty: open, as upstream.
PODS_TRAEFIK_CONFIG_SECRET = env.str("PODS_TRAEFIK_CONFIG_SECRET", default="")

# --- API ---------------------------------------------------------------------------------------
PODS_VERSION = env.str("PODS_VERSION", default="1.9.0")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["pods_project.envelope.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "pods_project.envelope.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pods.identity.tapis.TapisTokenAuthentication",
        "pods.identity.oidc.OIDCBearerAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Pods Service",
    "DESCRIPTION": (
        "Pods as a service for researchers: long-lived services from Docker images on Kubernetes. "
        "Wire-compatible with the Tapis Pods Service."
    ),
    "VERSION": PODS_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["pods_project.schema.drop_alias_paths"],
}

# --- Pods -------------------------------------------------------------------------------------
# Images every tenant may run besides the managed Image allow-list (kept by tenant admins
# through the API, and holding the built-in catalog's images): comma-separated fnmatch patterns
# over the image name (tag/digest ignored; "docker.io/library/" dropped, so "postgres" matches
# "postgres:16"). A deny in the managed list still wins. Development allows the simulator's
# scenario images; production allows nothing here by default (on a real cluster `kubesim/*`
# would be whatever a Docker Hub user of that name publishes). Never "*" in production.
PODS_IMAGE_ALLOWLIST = env.list("PODS_IMAGE_ALLOWLIST", default=["kubesim/*", "*doesnotexist*"] if DEBUG else [])
if not DEBUG and "*" in PODS_IMAGE_ALLOWLIST:
    raise ImproperlyConfigured("PODS_IMAGE_ALLOWLIST must not contain '*' when DJANGO_DEBUG is off")
# Compute queues a pod may ask for (the worker maps each to nodes); the first is the default.
PODS_COMPUTE_QUEUES = env.list("PODS_COMPUTE_QUEUES", default=["default"])
if not PODS_COMPUTE_QUEUES:
    raise ImproperlyConfigured("PODS_COMPUTE_QUEUES must name at least one queue")
# Bounds of a pod's resources (requests and limits alike): CPU in millicores, memory in MiB.
PODS_CPU_MIN = env.int("PODS_CPU_MIN", default=250)
PODS_CPU_MAX = env.int("PODS_CPU_MAX", default=6000)
PODS_MEM_MIN = env.int("PODS_MEM_MIN", default=256)
PODS_MEM_MAX = env.int("PODS_MEM_MAX", default=12288)
PODS_GPU_MAX = env.int("PODS_GPU_MAX", default=1)
if not (0 < PODS_CPU_MIN <= PODS_CPU_MAX and 0 < PODS_MEM_MIN <= PODS_MEM_MAX and PODS_GPU_MAX >= 0):
    raise ImproperlyConfigured("PODS_CPU_MIN/MAX, PODS_MEM_MIN/MAX or PODS_GPU_MAX are inconsistent")

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- i18n --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
