"""Settings for the Pods Service, configured only by environment variables.

Local development works with no configuration at all (DEBUG defaults to on, Postgres and Redis
on 127.0.0.1). With ``DJANGO_DEBUG=false`` every secret must be given explicitly. Every variable
is read by its type through ``pods_project.environment`` (a value may also come from a file named
by ``<NAME>_FILE``, for mounted secrets; an empty value means the default): a malformed value
stops the process at start-up with ``ImproperlyConfigured`` naming the variable, in development
too. All variables are listed in ``.env.example`` and in the README.
"""
import base64
import binascii
import fnmatch
import ipaddress
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from pods_project.environment import Environment, Required

BASE_DIR = Path(__file__).resolve().parent.parent

if (BASE_DIR / ".env").is_file():
    environ.FileAwareEnv.read_env(BASE_DIR / ".env")
env = Environment()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
required_in_production = Required("when DJANGO_DEBUG is off")
web_schemes = ("https", "http")
redis_schemes = ("redis", "rediss", "unix")

# --- Checks of structured values (each raises ValueError saying what was expected) -----------
def _raise(exc):
    raise exc


def _origin(value):
    if not re.match(r"^https?://[^/\s]+$", value):
        raise ValueError(f"origins such as https://example.org (scheme and host, no path), not {value!r}")


def _namespace(value):
    if not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", value):
        raise ValueError("a Kubernetes namespace name (lowercase letters, digits and '-', at most 63)")


def _label(value):
    """``key=value`` of a label selector (key: an optional DNS prefix and a name)."""
    key, eq, val = value.partition("=")
    if not eq or not re.match(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", key) \
            or not re.match(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$", val):
        raise ValueError(f"label selectors as key=value items, e.g. app.kubernetes.io/component=proxy, not {value!r}")


def _resource_name(value):
    """An extended resource: an optional DNS-subdomain prefix and a name (a qualified name)."""
    if not isinstance(value, str) or not re.match(
            r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", value):
        raise ValueError(f"an extended resource name such as nvidia.com/gpu, not {value!r}")


def _queue_config(value):
    """Per queue: ``node_selector`` (str → str), ``tolerations`` (list of objects), ``gpu_resource``."""
    if not isinstance(value, dict) or not all(isinstance(c, dict) for c in value.values()):
        raise ValueError('an object of queue name → object, e.g. {"gpu": {"node_selector": {"pool": "gpu"}}}')
    for queue, config in value.items():
        unknown = sorted(set(config) - {"node_selector", "tolerations", "gpu_resource"})
        if unknown:
            raise ValueError(f"only node_selector, tolerations, gpu_resource per queue ({queue!r} has "
                             f"{', '.join(unknown)})")
        selector = config.get("node_selector", {})
        if not isinstance(selector, dict) or not all(isinstance(v, str) for v in selector.values()):
            raise ValueError(f"{queue}.node_selector to be an object of label → string value")
        tolerations = config.get("tolerations", [])
        if not isinstance(tolerations, list) or not all(isinstance(t, dict) for t in tolerations):
            raise ValueError(f"{queue}.tolerations to be a list of Kubernetes toleration objects")
        for toleration in tolerations:
            extra = sorted(set(toleration) - {"key", "operator", "value", "effect", "tolerationSeconds"})
            if extra:
                raise ValueError(f"{queue}.tolerations with only key, operator, value, effect, tolerationSeconds "
                                 f"(not {', '.join(extra)})")
        if "gpu_resource" in config:
            _resource_name(config["gpu_resource"])


def _image_pattern(pattern):
    """A pattern that can match: image names are compared without tag, digest or docker.io/library/."""
    if "@" in pattern or ":" in pattern.rsplit("/", 1)[-1]:
        raise ValueError(f"patterns over the image name without tag or digest, not {pattern!r}")
    if not re.match(r"^[A-Za-z0-9*?\[\]!._/:-]+$", pattern):
        raise ValueError(f"image-name patterns (letters, digits, . _ - / : and * ? [ ]), not {pattern!r}")
    if pattern.startswith(("docker.io/", "index.docker.io/", "registry-1.docker.io/", "library/")):
        raise ValueError(f"Docker Hub names without docker.io/ or library/ (postgres, not {pattern!r})")
    if not DEBUG and fnmatch.fnmatchcase("any.registry.example/any/image", pattern) \
            and fnmatch.fnmatchcase("image", pattern):
        raise ValueError(f"no pattern that allows every image when DJANGO_DEBUG is off ({pattern!r})")


def _strong_secret_key(value):
    """Django's own bar (check --deploy's security.W009), refused outright in production."""
    if not DEBUG and (len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure-")
                      or value == DEV_SECRET_KEY):
        raise ValueError("a strong key in production: at least 50 characters, at least 5 different ones "
                         "(python -c 'import secrets; print(secrets.token_urlsafe(50))')")


def _encryption_key(value):
    """A Fernet key, or (in production) a passphrase long and varied enough to derive one from."""
    try:
        if len(base64.urlsafe_b64decode(value.encode())) == 32:
            return
    except (binascii.Error, ValueError):
        pass
    if not DEBUG and (len(value) < 32 or len(set(value)) < 10 or value.isalpha()):
        raise ValueError("Fernet keys (python -c 'from cryptography.fernet import Fernet; "
                         "print(Fernet.generate_key().decode())'), or passphrases of at least 32 characters "
                         "that are not one word (mix in digits or symbols)")


def _forwarded_ip(value):
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"IP addresses or CIDR networks of the proxies in front of the web server, not {value!r} "
                         "(never '*': anyone could then claim to be on HTTPS)") from None


# --- Core --------------------------------------------------------------------------------------
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", secret=True, check=_strong_secret_key,
                     default=DEV_SECRET_KEY if DEBUG else required_in_production)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"] if DEBUG else required_in_production)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[], item=_origin)

# --- HTTPS ---------------------------------------------------------------------------------------
# Production defaults are the secure ones (`manage.py check --deploy` passes with them): every
# HTTP request is redirected to HTTPS, browsers are told to stay on HTTPS (HSTS), cookies are sent
# over HTTPS only. Behind a proxy that terminates TLS, DJANGO_SECURE_PROXY_SSL_HEADER names the
# header it sets (X-Forwarded-Proto for Traefik): only trust it when the proxy always sets it.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Called over plain HTTP inside the cluster by probes and the proxy itself (forwardAuth, the
# HTTP provider): never redirected.
SECURE_REDIRECT_EXEMPT = [r"^metrics$", r"^(v3/)?healthcheck$", r"^(v3/)?(pods/)?traefik-config$",
                          r"^(v3/)?pods/[^/]+/auth$", r"^(v3/)?error-handler/\d+$", r"^(v3/)?pod-splash$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000, min=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
_ssl_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="",
                      check=lambda v: None if re.match(r"^[A-Za-z][A-Za-z0-9-]*$", v) else _raise(
                          ValueError("a header name such as X-Forwarded-Proto")))
SECURE_PROXY_SSL_HEADER = (f"HTTP_{_ssl_header.upper().replace('-', '_')}", "https") if _ssl_header else None
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Proxies whose X-Forwarded-* headers the web believes (pods_project/forwarded.py, wrapped in pods_project/wsgi.py).
PODS_FORWARDED_ALLOW_IPS = env.list("PODS_FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"], item=_forwarded_ip)

INSTALLED_APPS = [
    # First, so its templates (the admin login page with the OIDC button) override the admin's.
    "tenancy",
    "workers.admin_site.PodsAdminConfig",  # django.contrib.admin, with the console's dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as local static files (docs work offline)
    # The project's own apps, lowest layer first (docs/architecture.md).
    "core",
    "templates_catalog",
    "pods",
    "workers",
]

MIDDLEWARE = [
    "core.metrics_middleware.RequestMetricsMiddleware",  # first: times everything below it
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.CollapseSlashesMiddleware",
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
                "tenancy.identity.admin_login.oidc_context",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/pods")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60, min=0))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django's backend, probing a persistent connection only when it has not answered a moment ago.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "core.postgres"
# A database that does not answer fails a request in seconds (503), not after the OS's TCP timeout.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3, min=1))
# Concurrent test runs on one machine (several developers, or CI beside a developer) each need
# their own test database.
DATABASES["default"]["TEST"] = {"NAME": env.str("PODS_TEST_DATABASE", default="") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery --------------------------------------------------------------------------
REDIS_URL = env.url("REDIS_URL", default="redis://127.0.0.1:6379/0", schemes=redis_schemes)
# Prefix of the keys the service keeps in Redis (locks, cluster health, orphan clock), so two
# deployments (or a test run beside `make run`) can share one Redis.
PODS_REDIS_PREFIX = env.str("PODS_REDIS_PREFIX", default="pods")

# The transport options below (visibility timeout) are Redis's: broker and results stay on Redis.
CELERY_BROKER_URL = env.url("CELERY_BROKER_URL", default=REDIS_URL, schemes=redis_schemes)
CELERY_RESULT_BACKEND = env.url("CELERY_RESULT_BACKEND", default=REDIS_URL, schemes=redis_schemes)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="pods")
# Control work is isolated from bulk work: the sweep has a queue (and, under `make run` and
# compose, a worker) of its own, so spawns, log collection or a slow cluster never starve it;
# log collection and storage housekeeping go to the bulk queue. Spawns and teardowns stay on the
# default queue.
PODS_SWEEP_QUEUE = env.str("PODS_SWEEP_QUEUE", default=f"{CELERY_TASK_DEFAULT_QUEUE}.sweep")
PODS_BULK_QUEUE = env.str("PODS_BULK_QUEUE", default=f"{CELERY_TASK_DEFAULT_QUEUE}.bulk")
CELERY_TASK_ROUTES = {
    "workers.sweep": {"queue": PODS_SWEEP_QUEUE},
    "workers.collect_logs": {"queue": PODS_BULK_QUEUE},
    "workers.collect_pod_logs": {"queue": PODS_BULK_QUEUE},
    "workers.reap_idle_storage": {"queue": PODS_BULK_QUEUE},
    "workers.vacuum": {"queue": PODS_BULK_QUEUE},
}
# Nothing reads task results (the web only nudges; `workers.ping` opts back in): a send never
# touches the result backend, so Redis being down cannot stall a request on it.
CELERY_TASK_IGNORE_RESULT = True
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
# Celery's Django fix-up would close the task's database connections around every task (a new
# connection and Postgres backend per task); workers/db_connections.py recycles them as a web
# request does instead (CONN_MAX_AGE, health check). The fix-up closes them every 2 x this many.
CELERY_DB_REUSE_MAX = 1_000_000_000
# On SIGTERM, give running tasks a moment and hand unacknowledged ones back to the broker.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10.0
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Redis redelivers an unacknowledged task after the visibility timeout. Every time limit stays
# well below it, otherwise a long task would be run twice (a known Read the Docs incident).
# Short socket timeouts: a publish from a request gives up quickly when Redis is away (the sweep
# converges what it could not send). The socket timeout stays above the 1 s BRPOP of the worker.
PODS_BROKER_CONNECT_TIMEOUT = env.float("PODS_BROKER_CONNECT_TIMEOUT", default=1.0, min=0.05)
PODS_BROKER_SOCKET_TIMEOUT = env.float("PODS_BROKER_SOCKET_TIMEOUT", default=3.0, min=1.5)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600, min=1),
    "socket_connect_timeout": PODS_BROKER_CONNECT_TIMEOUT,
    "socket_timeout": PODS_BROKER_SOCKET_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = PODS_BROKER_CONNECT_TIMEOUT
# kombu's Redis transport with the reconnect crash fixed (see pods_project/broker.py).
if CELERY_BROKER_URL.partition("://")[0] in ("redis", "rediss"):
    CELERY_BROKER_TRANSPORT = "pods_project.broker:Transport"
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = PODS_BROKER_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = PODS_BROKER_SOCKET_TIMEOUT
# After a failed send, a process skips sends for this long (the sweep converges those pods).
PODS_ENQUEUE_BACKOFF_SECONDS = env.float("PODS_ENQUEUE_BACKOFF_SECONDS", default=2.0, min=0)
# Requests hand their wake-ups to a sender thread instead of waiting for the publish (pods/dispatch.py).
PODS_ENQUEUE_IN_BACKGROUND = env.bool("PODS_ENQUEUE_IN_BACKGROUND", default=True)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240, min=1)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300, min=1)
if CELERY_TASK_TIME_LIMIT >= CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
    raise ImproperlyConfigured(
        f"CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT}) must be below CELERY_VISIBILITY_TIMEOUT "
        f"({CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']}), or Redis redelivers running tasks")
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_TASK_SOFT_TIME_LIMIT ({CELERY_TASK_SOFT_TIME_LIMIT}) must be below CELERY_TASK_TIME_LIMIT "
        f"({CELERY_TASK_TIME_LIMIT}), or a task is killed before it can clean up")
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# Periodic work. Keys name their cadence; later capabilities add entries here.
CELERY_BEAT_SCHEDULE = {}  # filled in below, once the reconciler settings are read

# --- Secrets at rest ---------------------------------------------------------------------------
# Comma-separated; the first encrypts, all decrypt (rotation). Development derives one from the
# secret key so nothing needs configuring locally.
PODS_ENCRYPTION_KEYS = env.list("PODS_ENCRYPTION_KEYS", secret=True, item=_encryption_key,
                                default=[f"dev:{SECRET_KEY}"] if DEBUG else required_in_production)

# --- Identity ----------------------------------------------------------------------------------
# Clock skew tolerated when checking token expiry, in seconds.
PODS_JWT_LEEWAY = env.int("PODS_JWT_LEEWAY", default=30, min=0)
# Each process keeps tenants and their active keys this many seconds (tenancy/cache.py): a key
# rotated out or a tenant deactivated stops working everywhere within it. 0: no cache.
PODS_TENANT_CACHE_SECONDS = env.int("PODS_TENANT_CACHE_SECONDS", default=5, min=0)
# How long a fetched OIDC JWKS is trusted before it is fetched again (an unknown `kid` refetches).
PODS_OIDC_JWKS_TTL = env.int("PODS_OIDC_JWKS_TTL", default=300, min=0)
# The longest a request waits for an OIDC provider (discovery and key set together), seconds.
PODS_OIDC_HTTP_TIMEOUT = env.float("PODS_OIDC_HTTP_TIMEOUT", default=5.0, min=0.1)
# How long a browser's login to a tapis_auth pod lasts (its session cookie), seconds.
PODS_POD_AUTH_SESSION_SECONDS = env.int("PODS_POD_AUTH_SESSION_SECONDS", default=28800, min=60)
# The client secret of that login at the provider (client id: the tenant's OIDC audience), sent
# with the code exchange when set; empty: a public client, protected by PKCE alone.
PODS_POD_AUTH_CLIENT_SECRET = env.str("PODS_POD_AUTH_CLIENT_SECRET", default="", secret=True)
# An issuer's keys are fetched at most once per this many seconds, across every process (Redis):
# tokens naming unknown key ids cannot make the service fetch on every request.
PODS_OIDC_REFETCH_SECONDS = env.float("PODS_OIDC_REFETCH_SECONDS", default=60.0, min=1)

# Browser login to the admin site through OIDC (mozilla-django-oidc), only when configured.
# Staff accounts must already exist; they are matched by the username claim, never by email.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    with_oidc = Required("when OIDC_RP_CLIENT_ID is set")
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default=with_oidc, secret=True)
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.url("OIDC_OP_AUTHORIZATION_ENDPOINT", default=with_oidc, schemes=web_schemes)
    OIDC_OP_TOKEN_ENDPOINT = env.url("OIDC_OP_TOKEN_ENDPOINT", default=with_oidc, schemes=web_schemes)
    OIDC_OP_USER_ENDPOINT = env.url("OIDC_OP_USER_ENDPOINT", default=with_oidc, schemes=web_schemes)
    OIDC_OP_JWKS_ENDPOINT = env.url("OIDC_OP_JWKS_ENDPOINT", default=with_oidc, schemes=web_schemes)
    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_RP_SCOPES = "openid email profile"
    OIDC_TIMEOUT = PODS_OIDC_HTTP_TIMEOUT
    OIDC_CREATE_USER = False
    OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="preferred_username")
    LOGIN_REDIRECT_URL = "/admin/"
    LOGOUT_REDIRECT_URL = "/admin/"
AUTHENTICATION_BACKENDS = (
    ["tenancy.identity.admin_login.StaffOIDCBackend"] if OIDC_ENABLED else []
) + ["django.contrib.auth.backends.ModelBackend"]

# --- Kubernetes ----------------------------------------------------------------------------------
# Only the worker and beat talk to the cluster. With no kubeconfig, in-cluster config is used
# (service account); `make run` starts kubesim and points KUBECONFIG at it.
_default_kubeconfig = Path.home() / ".kube" / "config"
PODS_KUBECONFIG = env.str("KUBECONFIG", default=str(_default_kubeconfig) if _default_kubeconfig.is_file() else "")
PODS_KUBE_CONTEXT = env.str("PODS_KUBE_CONTEXT", default="")
# Overrides the kubeconfig's server URL (e.g. k3s writes https://127.0.0.1:6443, which another
# container reaches as https://k3s:6443).
PODS_KUBE_SERVER = env.url("PODS_KUBE_SERVER", default="", schemes=web_schemes)
PODS_KUBE_NAMESPACE = env.str("PODS_KUBE_NAMESPACE", default="default", check=_namespace)
PODS_KUBE_REQUEST_TIMEOUT = env.float("PODS_KUBE_REQUEST_TIMEOUT", default=10.0, min=0.1)
PODS_KUBE_POOL_SIZE = env.int("PODS_KUBE_POOL_SIZE", default=32, min=1)
# Attempts for transient API errors (429, 5xx, connection), with exponential backoff and jitter.
PODS_KUBE_ATTEMPTS = env.int("PODS_KUBE_ATTEMPTS", default=4, min=1)
PODS_KUBE_BACKOFF_MAX = env.float("PODS_KUBE_BACKOFF_MAX", default=5.0, min=0)


# Per compute queue: node selector, tolerations and the resource name GPUs are requested as.
# JSON, e.g. {"gpu": {"node_selector": {"pool": "gpu"}, "tolerations": [...],
#                     "gpu_resource": "nvidia.com/gpu"}}
PODS_COMPUTE_QUEUE_CONFIG = env.json("PODS_COMPUTE_QUEUE_CONFIG", default={}, check=_queue_config)
PODS_GPU_RESOURCE = env.str("PODS_GPU_RESOURCE", default="nvidia.com/gpu", check=_resource_name)
# Seconds a stopping pod's processes get to shut down cleanly (SIGTERM, then SIGKILL).
PODS_STOP_GRACE_SECONDS = env.int("PODS_STOP_GRACE_SECONDS", default=30, min=0)

# --- Reconciler ----------------------------------------------------------------------------------
# The watcher's (informer's) timer interval: expired run clocks and stalled starts/stops.
PODS_SWEEP_SECONDS = env.float("PODS_SWEEP_SECONDS", default=5.0, min=0.1)
# The beat sweep: the safety net's full resync (lists everything; converges with no watcher).
PODS_RESYNC_SECONDS = env.float("PODS_RESYNC_SECONDS", default=300.0, min=0.1)
# The watcher's leader lease in Redis: a standby takes over within this long of the leader dying.
PODS_LEADER_LEASE_SECONDS = env.float("PODS_LEADER_LEASE_SECONDS", default=6.0, min=0.5)
# A pod starting (REQUESTED / SPAWNER SETUP / CREATING) with no Kubernetes pod for this long is
# spawned again: its task was lost, its worker died, or the cluster was down.
PODS_REDRIVE_SECONDS = env.int("PODS_REDRIVE_SECONDS", default=60, min=1)
# ... or this long when the spawn queue is empty: then no task for it is waiting anywhere (lost
# with a killed worker or a Redis restarted empty, or never sent while Redis was down).
PODS_REDRIVE_IDLE_SECONDS = env.int("PODS_REDRIVE_IDLE_SECONDS", default=10, min=1)
# Heartbeats of worker and beat processes (/healthcheck): written every PODS_HEARTBEAT_SECONDS,
# gone PODS_HEARTBEAT_TTL seconds after the last one.
PODS_HEARTBEAT_SECONDS = env.float("PODS_HEARTBEAT_SECONDS", default=5.0, min=0.5)
PODS_HEARTBEAT_TTL = env.int("PODS_HEARTBEAT_TTL", default=20, min=2)
# A cluster observation (sweep or watcher) older than this is reported as unknown.
PODS_CLUSTER_HEALTH_STALE_SECONDS = env.float("PODS_CLUSTER_HEALTH_STALE_SECONDS", default=15.0, min=1)
# Managed objects with no pod row (or of an older run) are deleted once this old, so an object
# created by an in-flight spawn is never mistaken for an orphan.
PODS_ORPHAN_GRACE_SECONDS = env.int("PODS_ORPHAN_GRACE_SECONDS", default=60, min=0)
PODS_LOG_COLLECT_SECONDS = env.float("PODS_LOG_COLLECT_SECONDS", default=10.0, min=0.1)
# After the API fails a log read, collection pauses PODS_LOG_COLLECT_SECONDS, doubling per failed
# probe up to this (circuit breaker).
PODS_LOG_BREAKER_MAX_SECONDS = env.float("PODS_LOG_BREAKER_MAX_SECONDS", default=120.0, min=1)
# Logs kept per run of a pod; the oldest lines are dropped beyond it.
PODS_LOG_MAX_BYTES = env.int("PODS_LOG_MAX_BYTES", default=10 * 1024 * 1024, min=1)
# Bytes fetched per pod per collection (bounded work per beat).
PODS_LOG_FETCH_BYTES = env.int("PODS_LOG_FETCH_BYTES", default=1024 * 1024, min=1)
# Pods visited per log-collection pass (least recently collected first), bounding each pass.
PODS_LOG_PODS_PER_PASS = env.int("PODS_LOG_PODS_PER_PASS", default=200, min=1)
# Recent Warning events kept per pod (shown in the admin and status messages).
PODS_WARNINGS_KEPT = env.int("PODS_WARNINGS_KEPT", default=10, min=0)
# A pod no node can take (taints, resources, node selector) turns ERROR after this many seconds
# in CREATING, saying why, instead of waiting forever.
PODS_UNSCHEDULABLE_SECONDS = env.int("PODS_UNSCHEDULABLE_SECONDS", default=300, min=1)

CELERY_BEAT_SCHEDULE.update({
    # Each run expires before the next is due, so a backlog never piles up.
    "sweep-every-PODS_RESYNC_SECONDS": {
        "task": "workers.sweep", "schedule": PODS_RESYNC_SECONDS, "options": {"expires": PODS_RESYNC_SECONDS},
    },
    "collect-logs-every-PODS_LOG_COLLECT_SECONDS": {
        "task": "workers.collect_logs", "schedule": PODS_LOG_COLLECT_SECONDS,
        "options": {"expires": PODS_LOG_COLLECT_SECONDS},
    },
})

# --- Volumes, snapshots and files (docs/volumes.md) ----------------------------------------------
# The storage backend the pods services use (a dotted path, like EMAIL_BACKEND).
PODS_STORAGE_BACKEND = env.str("PODS_STORAGE_BACKEND", default="workers.storage.KubeStorage")
# The per-tenant NFS server image (exports /exports, the tenant's claim).
PODS_STORAGE_SERVER_IMAGE = env.str("PODS_STORAGE_SERVER_IMAGE", default="itsthenetwork/nfs-server-alpine:12")
# StorageClass of the tenants' claims; empty: the cluster's default class.
PODS_STORAGE_CLASS = env.str("PODS_STORAGE_CLASS", default="", empty="")
# A tenant's storage quota (MB): the size of its claim, and the most its volumes' and snapshots'
# size_limits may add up to.
PODS_STORAGE_TENANT_QUOTA_MB = env.int("PODS_STORAGE_TENANT_QUOTA_MB", default=20480, min=1)
# How long a file request waits for a starting storage server before answering 503.
PODS_STORAGE_WAIT_SECONDS = env.float("PODS_STORAGE_WAIT_SECONDS", default=30.0, min=0)
# A storage server nobody used for this long (and that no live pod mounts) is reaped.
PODS_STORAGE_IDLE_SECONDS = env.int("PODS_STORAGE_IDLE_SECONDS", default=900, min=1)
PODS_STORAGE_REAP_SECONDS = env.float("PODS_STORAGE_REAP_SECONDS", default=60.0, min=1)
# Checks (one a second) the worker makes for a starting server before leaving it to the next wake-up.
PODS_STORAGE_START_CHECKS = env.int("PODS_STORAGE_START_CHECKS", default=120, min=0)
# Time limit of one quick storage command (list, du, mkdir), and of one transfer or snapshot copy.
PODS_STORAGE_EXEC_TIMEOUT = env.float("PODS_STORAGE_EXEC_TIMEOUT", default=60.0, min=1)
PODS_STORAGE_TRANSFER_TIMEOUT = env.float("PODS_STORAGE_TRANSFER_TIMEOUT", default=3600.0, min=1)
# Largest listing output read back (bytes; about 100 bytes a file).
PODS_STORAGE_LIST_MAX_BYTES = env.int("PODS_STORAGE_LIST_MAX_BYTES", default=64 * 1024 * 1024, min=1024)
# Largest upload (bytes) into a volume or a pod: past it, 413.
PODS_UPLOAD_MAX_BYTES = env.int("PODS_UPLOAD_MAX_BYTES", default=5 * 1024 ** 3, min=1)
# The template ensure_jupyter_pod creates a Jupyter pod from (the built-in catalog's).
PODS_JUPYTER_TEMPLATE = env.str("PODS_JUPYTER_TEMPLATE", default="jupyterlab")
# Size of the pod-private claim a `pvc` mount gets (MB; upstream: 10Gi).
PODS_POD_CLAIM_SIZE_MB = env.int("PODS_POD_CLAIM_SIZE_MB", default=10240, min=1)
# Output kept per stream of each exec_pod_commands command (bytes).
PODS_EXEC_OUTPUT_MAX_BYTES = env.int("PODS_EXEC_OUTPUT_MAX_BYTES", default=1024 * 1024, min=1)

# --- Table maintenance (workers/maintenance.py) -------------------------------------------------------
# How often the service's tables are checked for dead rows (and vacuumed past the thresholds
# below); 0: never (leave it all to the server's autovacuum).
PODS_VACUUM_SECONDS = env.float("PODS_VACUUM_SECONDS", default=10.0, min=0)
# A table is vacuumed once its dead rows number at least this many and this fraction of its live
# ones (and analysed once as many rows changed since its last analysis).
PODS_VACUUM_MIN_DEAD = env.int("PODS_VACUUM_MIN_DEAD", default=500, min=1)
PODS_VACUUM_FRACTION = env.float("PODS_VACUUM_FRACTION", default=0.1, min=0)
if PODS_VACUUM_SECONDS:
    CELERY_BEAT_SCHEDULE["vacuum-every-PODS_VACUUM_SECONDS"] = {
        "task": "workers.vacuum", "schedule": PODS_VACUUM_SECONDS, "options": {"expires": PODS_VACUUM_SECONDS},
    }

CELERY_BEAT_SCHEDULE.update({
    "reap-idle-storage-every-PODS_STORAGE_REAP_SECONDS": {
        "task": "workers.reap_idle_storage", "schedule": PODS_STORAGE_REAP_SECONDS,
        "options": {"expires": PODS_STORAGE_REAP_SECONDS},
    },
})

# --- Proxy (Traefik) -----------------------------------------------------------------------------
PODS_TRAEFIK_HTTP_ENTRYPOINT = env.str("PODS_TRAEFIK_HTTP_ENTRYPOINT", default="websecure")
PODS_TRAEFIK_TCP_ENTRYPOINT = env.str("PODS_TRAEFIK_TCP_ENTRYPOINT", default="websecure")
# Set but empty: TLS with Traefik's default certificate.
PODS_TRAEFIK_CERT_RESOLVER = env.str("PODS_TRAEFIK_CERT_RESOLVER", default="letsencrypt", empty="")
# Where Traefik reaches this service (forwardAuth for pods with tapis_auth).
PODS_PUBLIC_URL = env.url("PODS_PUBLIC_URL", default="http://localhost:8000", schemes=web_schemes)
# When set, /traefik-config (every running pod of every tenant) answers only requests sending it
# (header X-Pods-Traefik-Config-Token, which Traefik's HTTP provider sends through its `headers`
# option, or Authorization: Bearer). Empty: open, as upstream.
PODS_TRAEFIK_CONFIG_TOKEN = env.str("PODS_TRAEFIK_CONFIG_TOKEN", default="", secret=True)

# Who may connect to the pods' ports (each pod's NetworkPolicy): the proxy's pods, by label
# (key=value,...), in the namespaces these labels select (empty: the pods' own namespace; e.g.
# kubernetes.io/metadata.name=pods-system for a proxy in another namespace).
PODS_PROXY_POD_SELECTOR = env.list("PODS_PROXY_POD_SELECTOR", item=_label,
                                   default=["app.kubernetes.io/name=pods-service", "app.kubernetes.io/component=proxy"])
PODS_PROXY_NAMESPACE_SELECTOR = env.list("PODS_PROXY_NAMESPACE_SELECTOR", default=[], item=_label, empty=[])

# --- API ---------------------------------------------------------------------------------------
PODS_VERSION = env.str("PODS_VERSION", default="1.9.0")
# The largest request body accepted (JSON bodies: 413 above it). Large enough for a 1 MB
# ephemeral file's config_content with its JSON escaping.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("PODS_MAX_BODY_BYTES", default=2621440, min=1024)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["core.envelope.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.envelope.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.identity.tapis.TapisTokenAuthentication",
        "tenancy.identity.oidc.OIDCBearerAuthentication",
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
    "PREPROCESSING_HOOKS": ["core.schema.drop_alias_paths"],
    # Served from this service's static files, not a CDN: the docs pages work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Observability ------------------------------------------------------------------------------
# When set, GET /metrics demands `Authorization: Bearer <token>` (Prometheus: `authorization`).
PODS_METRICS_TOKEN = env.str("PODS_METRICS_TOKEN", default="", secret=True)

# --- Pods -------------------------------------------------------------------------------------
# The simulator's scenario images, by exact name (kubesim/scenarios.py), plus one that exists
# nowhere (a pull failure): no pattern, so no other registry or repository gets in.
DEV_IMAGES = ["kubesim/happy", "kubesim/web", "kubesim/crashloop", "kubesim/oom", "kubesim/imagepull-error",
              "kubesim/completes", "kubesim/fails", "kubesim/slow-start", "kubesim/unschedulable",
              "kubesim/unready", "kubesim/unhealthy", "kubesim/doesnotexist"]
# Images every tenant may run besides the managed Image allow-list (kept by tenant admins
# through the API, and holding the built-in catalog's images): comma-separated fnmatch patterns
# over the image name (tag/digest ignored; "docker.io/library/" dropped, so "postgres" matches
# "postgres:16"). A deny in the managed list still wins. Development allows the simulator's
# scenario images; production allows nothing here by default (on a real cluster `kubesim/*`
# would be whatever a Docker Hub user of that name publishes). Never "*" in production.
PODS_IMAGE_ALLOWLIST = env.list("PODS_IMAGE_ALLOWLIST", default=DEV_IMAGES if DEBUG else [],
                                item=_image_pattern, empty=[])
# Linux capabilities a template may add back (every pod drops ALL). The default is what the
# built-in catalog's images need to start as root and drop to their own user (Docker grants
# these and more by default); capabilities that break the container boundary are never allowed.
_never_capabilities = {"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "SYS_BOOT", "SYS_TIME",
                       "NET_ADMIN", "BPF", "PERFMON", "MAC_ADMIN", "MAC_OVERRIDE", "DAC_READ_SEARCH",
                       "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "LINUX_IMMUTABLE", "SYS_RESOURCE"}


def _capability(value):
    if not re.match(r"^[A-Z][A-Z_]*$", value):
        raise ValueError(f"capability names such as CHOWN or SETUID (without CAP_), not {value!r}")
    if value in _never_capabilities:
        raise ValueError(f"capabilities that do not let a container out ({value} does)")


PODS_TEMPLATE_CAPABILITIES = env.list("PODS_TEMPLATE_CAPABILITIES", default=[
    "CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"], item=_capability, empty=[])
# Compute queues a pod may ask for (the worker maps each to nodes); the first is the default.
PODS_COMPUTE_QUEUES = env.list("PODS_COMPUTE_QUEUES", default=["default"])
_unknown_queues = sorted(set(PODS_COMPUTE_QUEUE_CONFIG) - set(PODS_COMPUTE_QUEUES))
if _unknown_queues:
    raise ImproperlyConfigured(f"PODS_COMPUTE_QUEUE_CONFIG configures {', '.join(_unknown_queues)}, which "
                               f"PODS_COMPUTE_QUEUES ({','.join(PODS_COMPUTE_QUEUES)}) does not list")
# Bounds of a pod's resources (requests and limits alike): CPU in millicores, memory in MiB.
PODS_CPU_MIN = env.int("PODS_CPU_MIN", default=250, min=1)
PODS_CPU_MAX = env.int("PODS_CPU_MAX", default=6000, min=1)
PODS_MEM_MIN = env.int("PODS_MEM_MIN", default=256, min=1)
PODS_MEM_MAX = env.int("PODS_MEM_MAX", default=12288, min=1)
PODS_GPU_MAX = env.int("PODS_GPU_MAX", default=1, min=0)
# imagePullPolicy of user pods; empty leaves Kubernetes' default (Always for :latest or no tag,
# IfNotPresent otherwise). A template's security.image_pull_policy wins over it.
PODS_IMAGE_PULL_POLICY = env.str("PODS_IMAGE_PULL_POLICY", default="", choices=("Always", "IfNotPresent", "Never"),
                                 empty="")
PODS_IMAGE_PULL_POLICY = {c.upper(): c for c in ("Always", "IfNotPresent", "Never")}.get(
    PODS_IMAGE_PULL_POLICY.upper(), "")
# Ephemeral storage (the container's writable layer, logs, emptyDirs), MiB, as upstream: bounds of
# requests and limits, and the defaults of a pod that sets none; -1 is "unlimited" (nothing sent to
# Kubernetes), which users may ask for only while one of the defaults is -1.
PODS_EPHEMERAL_STORAGE_MIN = env.int("PODS_EPHEMERAL_STORAGE_MIN", default=1, min=1)
PODS_EPHEMERAL_STORAGE_MAX = env.int("PODS_EPHEMERAL_STORAGE_MAX", default=18432, min=1)
PODS_EPHEMERAL_STORAGE_REQUEST_DEFAULT = env.int("PODS_EPHEMERAL_STORAGE_REQUEST_DEFAULT", default=-1, min=-1)
PODS_EPHEMERAL_STORAGE_LIMIT_DEFAULT = env.int("PODS_EPHEMERAL_STORAGE_LIMIT_DEFAULT", default=-1, min=-1)
# Pod-count quotas where a tenant sets none (Tenant.max_pods, Tenant.max_pods_per_user): pods in
# one tenant, and pods one user creates. Every pod counts, running or not.
PODS_TENANT_MAX_PODS = env.int("PODS_TENANT_MAX_PODS", default=1000, min=1)
PODS_USER_MAX_PODS = env.int("PODS_USER_MAX_PODS", default=100, min=1)
if PODS_CPU_MIN > PODS_CPU_MAX:
    raise ImproperlyConfigured(f"PODS_CPU_MIN ({PODS_CPU_MIN}) must not exceed PODS_CPU_MAX ({PODS_CPU_MAX})")
if PODS_MEM_MIN > PODS_MEM_MAX:
    raise ImproperlyConfigured(f"PODS_MEM_MIN ({PODS_MEM_MIN}) must not exceed PODS_MEM_MAX ({PODS_MEM_MAX})")
if PODS_EPHEMERAL_STORAGE_MIN > PODS_EPHEMERAL_STORAGE_MAX:
    raise ImproperlyConfigured(f"PODS_EPHEMERAL_STORAGE_MIN ({PODS_EPHEMERAL_STORAGE_MIN}) must not exceed "
                               f"PODS_EPHEMERAL_STORAGE_MAX ({PODS_EPHEMERAL_STORAGE_MAX})")
for _name in ("PODS_EPHEMERAL_STORAGE_REQUEST_DEFAULT", "PODS_EPHEMERAL_STORAGE_LIMIT_DEFAULT"):
    _value = globals()[_name]
    if _value != -1 and not PODS_EPHEMERAL_STORAGE_MIN <= _value <= PODS_EPHEMERAL_STORAGE_MAX:
        raise ImproperlyConfigured(f"{_name} ({_value}) must be -1 (unlimited) or within PODS_EPHEMERAL_STORAGE_MIN.."
                                   f"PODS_EPHEMERAL_STORAGE_MAX ({PODS_EPHEMERAL_STORAGE_MIN}..{PODS_EPHEMERAL_STORAGE_MAX})")
if 0 <= PODS_EPHEMERAL_STORAGE_LIMIT_DEFAULT < PODS_EPHEMERAL_STORAGE_REQUEST_DEFAULT:
    raise ImproperlyConfigured("PODS_EPHEMERAL_STORAGE_REQUEST_DEFAULT must not exceed PODS_EPHEMERAL_STORAGE_LIMIT_DEFAULT")

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
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")).upper()
# `json`: one JSON object per line (timestamp, level, logger, message, exception), for log shippers.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain", choices=("plain", "json"))
# Steady state is silent at INFO: Celery's per-task lines (received, succeeded) and beat's
# "sending due task" every few seconds are DEBUG-worthy; failures still show (WARNING and up).
_quiet_at_info = "WARNING" if LOG_LEVEL == "INFO" else LOG_LEVEL
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery.app.trace": {"level": _quiet_at_info},
        "celery.worker.strategy": {"level": _quiet_at_info},
        "celery.beat": {"level": _quiet_at_info},
    },
}
