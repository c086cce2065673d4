"""Configuration fails early: a malformed value stops start-up with ImproperlyConfigured naming the
variable and what is wrong with it — in development as in production. (That every variable keeps
its documented default: test_configuration_documented.py.)

Each case starts a real process (``django.setup()``) with the environment given, as a deployment
would; a failing one stops while reading the settings, so it is quick.
"""
import pytest

from tests.foundation.settings_probe import load_settings

PRODUCTION = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "a-real-secret-of-fifty-characters-or-more-0123456789",
              "DJANGO_ALLOWED_HOSTS": "pods.example.org",
              "PODS_ENCRYPTION_KEYS": "Mf5yhLSVu5-ZKbxLxmH9bfIKWhh3Fh9O6Dhp9PLuGRA="}
OIDC = {"OIDC_RP_CLIENT_ID": "pods", "OIDC_RP_CLIENT_SECRET": "s", "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp/auth",
        "OIDC_OP_TOKEN_ENDPOINT": "https://idp/token", "OIDC_OP_USER_ENDPOINT": "https://idp/user",
        "OIDC_OP_JWKS_ENDPOINT": "https://idp/jwks"}

# (environment, the variable the message must name, a fragment saying what is wrong)
MALFORMED = [
    ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG", "boolean"),
    ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL", "one of DEBUG"),
    ({"DJANGO_CSRF_TRUSTED_ORIGINS": "pods.example.org"}, "DJANGO_CSRF_TRUSTED_ORIGINS", "scheme"),
    ({"DATABASE_URL": "mysql://root@db/pods"}, "DATABASE_URL", "postgres://"),
    ({"DATABASE_URL": "pods-database"}, "DATABASE_URL", "postgres://"),
    ({"DATABASE_URL": "postgres://postgres@db:port/pods"}, "DATABASE_URL", "Port"),
    ({"DATABASE_URL": "postgres://postgres@db:5432/"}, "DATABASE_URL", "naming the database"),
    ({"DATABASE_CONN_MAX_AGE": "-1"}, "DATABASE_CONN_MAX_AGE", "at least 0"),
    ({"REDIS_URL": "http://redis:6379/0"}, "REDIS_URL", "redis://"),
    ({"REDIS_URL": "redis://"}, "REDIS_URL", "with a host"),
    ({"CELERY_BROKER_URL": "amqp://guest@rabbit//"}, "CELERY_BROKER_URL", "redis://"),
    ({"CELERY_RESULT_BACKEND": "127.0.0.1:6379"}, "CELERY_RESULT_BACKEND", "redis://"),
    ({"CELERY_VISIBILITY_TIMEOUT": "0"}, "CELERY_VISIBILITY_TIMEOUT", "at least 1"),
    ({"CELERY_TASK_TIME_LIMIT": "3600"}, "CELERY_TASK_TIME_LIMIT", "below CELERY_VISIBILITY_TIMEOUT"),
    ({"CELERY_TASK_SOFT_TIME_LIMIT": "300"}, "CELERY_TASK_SOFT_TIME_LIMIT", "below CELERY_TASK_TIME_LIMIT"),
    ({"CELERY_TASK_SOFT_TIME_LIMIT": "4m"}, "CELERY_TASK_SOFT_TIME_LIMIT", "an integer"),
    ({"PODS_ENCRYPTION_KEYS": "k1,,k2"}, "PODS_ENCRYPTION_KEYS", "empty items"),
    ({"PODS_JWT_LEEWAY": "abc"}, "PODS_JWT_LEEWAY", "an integer"),
    ({"PODS_OIDC_JWKS_TTL": "-300"}, "PODS_OIDC_JWKS_TTL", "at least 0"),
    ({"PODS_OIDC_HTTP_TIMEOUT": "0"}, "PODS_OIDC_HTTP_TIMEOUT", "at least 0.1"),
    ({"OIDC_RP_CLIENT_ID": "pods"}, "OIDC_RP_CLIENT_SECRET", "when OIDC_RP_CLIENT_ID is set"),
    ({**OIDC, "OIDC_OP_JWKS_ENDPOINT": "idp/jwks"}, "OIDC_OP_JWKS_ENDPOINT", "https://"),
    ({"PODS_IMAGE_ALLOWLIST": "kubesim/*,,myorg/*"}, "PODS_IMAGE_ALLOWLIST", "empty items"),
    ({"PODS_IMAGE_ALLOWLIST": "kubesim/*,kubesim/*"}, "PODS_IMAGE_ALLOWLIST", "repeated"),
    ({"PODS_IMAGE_ALLOWLIST": "postgres:16"}, "PODS_IMAGE_ALLOWLIST", "without tag or digest"),
    ({"PODS_IMAGE_ALLOWLIST": "myorg/app@sha256:abc"}, "PODS_IMAGE_ALLOWLIST", "without tag or digest"),
    ({"PODS_IMAGE_ALLOWLIST": "docker.io/library/postgres"}, "PODS_IMAGE_ALLOWLIST", "without docker.io/"),
    ({"PODS_IMAGE_ALLOWLIST": "my org/*"}, "PODS_IMAGE_ALLOWLIST", "image-name patterns"),
    ({**PRODUCTION, "PODS_IMAGE_ALLOWLIST": "myorg/*,*"}, "PODS_IMAGE_ALLOWLIST", "allows every image"),
    ({**PRODUCTION, "PODS_IMAGE_ALLOWLIST": "**"}, "PODS_IMAGE_ALLOWLIST", "allows every image"),
    ({"PODS_COMPUTE_QUEUES": "default,,gpu"}, "PODS_COMPUTE_QUEUES", "empty items"),
    ({"PODS_CPU_MIN": "abc"}, "PODS_CPU_MIN", "an integer"),
    ({"PODS_CPU_MAX": "1.5"}, "PODS_CPU_MAX", "an integer"),
    ({"PODS_CPU_MIN": "7000"}, "PODS_CPU_MIN", "must not exceed PODS_CPU_MAX"),
    ({"PODS_MEM_MIN": "0"}, "PODS_MEM_MIN", "at least 1"),
    ({"PODS_MEM_MAX": "100"}, "PODS_MEM_MIN", "must not exceed PODS_MEM_MAX"),
    ({"PODS_GPU_MAX": "-1"}, "PODS_GPU_MAX", "at least 0"),
    ({"PODS_KUBE_SERVER": "k3s:6443"}, "PODS_KUBE_SERVER", "https://"),
    ({"PODS_KUBE_NAMESPACE": "Pods_NS"}, "PODS_KUBE_NAMESPACE", "namespace name"),
    ({"PODS_KUBE_REQUEST_TIMEOUT": "0"}, "PODS_KUBE_REQUEST_TIMEOUT", "at least 0.1"),
    ({"PODS_KUBE_POOL_SIZE": "0"}, "PODS_KUBE_POOL_SIZE", "at least 1"),
    ({"PODS_KUBE_ATTEMPTS": "three"}, "PODS_KUBE_ATTEMPTS", "an integer"),
    ({"PODS_KUBE_BACKOFF_MAX": "-1"}, "PODS_KUBE_BACKOFF_MAX", "at least 0"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": "[1]"}, "PODS_COMPUTE_QUEUE_CONFIG", "object of queue name"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": "{gpu: {}}"}, "PODS_COMPUTE_QUEUE_CONFIG", "JSON"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": '{"default": "gpu-nodes"}'}, "PODS_COMPUTE_QUEUE_CONFIG", "object of queue name"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": '{"default": {"nodeSelector": {"pool": "a"}}}'}, "PODS_COMPUTE_QUEUE_CONFIG",
     "nodeSelector"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": '{"default": {"node_selector": {"pool": 1}}}'}, "PODS_COMPUTE_QUEUE_CONFIG",
     "node_selector"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": '{"default": {"tolerations": {"key": "gpu"}}}'}, "PODS_COMPUTE_QUEUE_CONFIG",
     "tolerations"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": '{"default": {"tolerations": [{"key": "gpu", "toleration_seconds": 5}]}}'},
     "PODS_COMPUTE_QUEUE_CONFIG", "toleration_seconds"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": '{"default": {"gpu_resource": 1}}'}, "PODS_COMPUTE_QUEUE_CONFIG",
     "extended resource name"),
    ({"PODS_COMPUTE_QUEUE_CONFIG": '{"gpu": {}}'}, "PODS_COMPUTE_QUEUE_CONFIG", "PODS_COMPUTE_QUEUES"),
    ({"PODS_GPU_RESOURCE": "nvidia gpu"}, "PODS_GPU_RESOURCE", "extended resource name"),
    ({"PODS_STOP_GRACE_SECONDS": "-30"}, "PODS_STOP_GRACE_SECONDS", "at least 0"),
    ({"PODS_SWEEP_SECONDS": "-5"}, "PODS_SWEEP_SECONDS", "at least 0.1"),
    ({"PODS_SWEEP_SECONDS": "nan"}, "PODS_SWEEP_SECONDS", "finite"),
    ({"PODS_REDRIVE_SECONDS": "-60"}, "PODS_REDRIVE_SECONDS", "at least 1"),
    ({"PODS_ORPHAN_GRACE_SECONDS": "1m"}, "PODS_ORPHAN_GRACE_SECONDS", "an integer"),
    ({"PODS_WARNINGS_KEPT": "-1"}, "PODS_WARNINGS_KEPT", "at least 0"),
    ({"PODS_LOG_COLLECT_SECONDS": "0"}, "PODS_LOG_COLLECT_SECONDS", "at least 0.1"),
    ({"PODS_LOG_PODS_PER_PASS": "0"}, "PODS_LOG_PODS_PER_PASS", "at least 1"),
    ({"PODS_LOG_FETCH_BYTES": "1MB"}, "PODS_LOG_FETCH_BYTES", "an integer"),
    ({"PODS_LOG_MAX_BYTES": "0"}, "PODS_LOG_MAX_BYTES", "at least 1"),
    ({"PODS_PUBLIC_URL": "pods.example.org"}, "PODS_PUBLIC_URL", "https://"),
    ({"PODS_CPU_MIN_FILE": "/nonexistent/cpu-min"}, "PODS_CPU_MIN_FILE", "cannot be read"),
]


@pytest.mark.parametrize("env,variable,fragment", MALFORMED,
                         ids=[f"{v}={e.get(v, '(unset)')[:24]}" for e, v, _ in MALFORMED])
def test_malformed_value_stops_start_up_naming_the_variable(env, variable, fragment):
    loaded = load_settings(env)
    assert loaded.returncode != 0, f"{env} was accepted"
    assert loaded.error.startswith("django.core.exceptions.ImproperlyConfigured: "), loaded.stderr
    assert variable in loaded.error and fragment in loaded.error, loaded.error


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "PODS_ENCRYPTION_KEYS"])
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_production_requires_its_secrets(missing, how):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    if how == "empty":
        env[missing] = ""
    loaded = load_settings(env)
    assert f"ImproperlyConfigured: {missing} must be set when DJANGO_DEBUG is off" in loaded.error, loaded.stderr


def test_secrets_never_appear_in_the_message():
    for keys in ("s3cr3t-key,,other", "s3cr3t-key,s3cr3t-key"):
        loaded = load_settings({"PODS_ENCRYPTION_KEYS": keys})
        assert "PODS_ENCRYPTION_KEYS" in loaded.error and "s3cr3t" not in loaded.stderr
    loaded = load_settings({"DATABASE_URL": "postgres://pods:hunter2pw@db:port/pods"})
    assert "DATABASE_URL" in loaded.error and "hunter2pw" not in loaded.stderr


def test_well_formed_values_are_taken(tmp_path):
    secret_file = tmp_path / "keys"
    secret_file.write_text("first-key: a long enough passphrase 1,second-key: a long enough passphrase 2\n")
    loaded = load_settings({
        **PRODUCTION, **OIDC,
        "PODS_ENCRYPTION_KEYS": "", "PODS_ENCRYPTION_KEYS_FILE": str(secret_file),
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://pods.example.org, https://*.example.org",
        "DATABASE_URL": "postgres:///pods", "REDIS_URL": "rediss://:pw@redis.example.org:6380/2",
        "PODS_COMPUTE_QUEUES": "default,gpu",
        "PODS_COMPUTE_QUEUE_CONFIG": '{"gpu": {"node_selector": {"pool": "gpu"}, "gpu_resource": "amd.com/gpu",'
                                     ' "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]}}',
        "PODS_IMAGE_ALLOWLIST": "myorg/*, registry.example.org:5000/team/*,postgres",
        "PODS_SWEEP_SECONDS": "2.5", "PODS_TRAEFIK_CERT_RESOLVER": "", "LOG_LEVEL": "warning",
        "PODS_KUBE_SERVER": "https://k3s:6443",
    })
    assert loaded.returncode == 0, loaded.stderr
    s = loaded.settings
    assert s["DEBUG"] is False
    assert s["PODS_ENCRYPTION_KEYS"] == ["first-key: a long enough passphrase 1", "second-key: a long enough passphrase 2"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://pods.example.org", "https://*.example.org"]
    assert s["DATABASES"]["default"]["NAME"] == "pods" and s["DATABASES"]["default"]["HOST"] == ""
    assert s["CELERY_BROKER_URL"] == s["REDIS_URL"] == "rediss://:pw@redis.example.org:6380/2"
    assert s["PODS_COMPUTE_QUEUE_CONFIG"]["gpu"]["gpu_resource"] == "amd.com/gpu"
    assert s["PODS_IMAGE_ALLOWLIST"] == ["myorg/*", "registry.example.org:5000/team/*", "postgres"]
    assert s["PODS_SWEEP_SECONDS"] == 2.5 and s["LOG_LEVEL"] == "WARNING"
    assert s["PODS_TRAEFIK_CERT_RESOLVER"] == "", "an empty resolver means Traefik's default certificate"
    assert s["OIDC_ENABLED"] is True and s["OIDC_OP_JWKS_ENDPOINT"] == "https://idp/jwks"


def test_production_defaults_allow_no_static_images():
    loaded = load_settings(PRODUCTION)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.settings["PODS_IMAGE_ALLOWLIST"] == []
    assert loaded.settings["PODS_IMAGE_ALLOWLIST"] != load_settings({}).settings["PODS_IMAGE_ALLOWLIST"]
