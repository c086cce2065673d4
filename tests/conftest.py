"""Fixtures shared by the whole suite: real Postgres, real Redis, real worker processes."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

import kubesim
from workers.kube import client as kube_client

ROOT = Path(__file__).resolve().parent.parent


# --- Markers say what a test needs ---------------------------------------------------------------
LIVE_SERVER = "live_server"
# Fixtures that start real worker processes (Celery worker; the e2e stack adds beat and watcher).
WORKER_PROCESSES = {"stack", "celery_worker_process"}
# The fault suite's stack runs its own web server (granian) beside the workers: both at once.
FULL_STACKS = {"fault_stack"}


def marker_problem(item) -> str | None:
    """Why ``item``'s markers disagree with its fixtures (pytest.ini defines e2e and live), or None."""
    fixtures = set(getattr(item, "fixturenames", ()))
    full = bool(fixtures & FULL_STACKS)
    live, workers = LIVE_SERVER in fixtures or full, bool(fixtures & WORKER_PROCESSES) or full
    e2e, marked_live = item.get_closest_marker("e2e") is not None, item.get_closest_marker("live") is not None
    if e2e and not (live and workers):
        return "is marked e2e but does not use both a live server and worker processes (the `stack` fixture)"
    if e2e and marked_live:
        return "is marked both e2e and live; e2e alone says it needs a live server and workers"
    if marked_live and (not live or workers):
        return "is marked live but " + ("starts worker processes: mark it e2e" if workers else "uses no live_server")
    if live and not (e2e or marked_live):
        return "uses a live server: mark it live (or e2e with worker processes)"
    return None


@pytest.hookimpl(tryfirst=True)  # before -m deselects anything
def pytest_collection_modifyitems(config, items):
    problems = [f"  {item.nodeid} {problem}" for item in items if (problem := marker_problem(item))]
    if problems:
        raise pytest.UsageError("test markers disagree with the fixtures the tests use:\n" + "\n".join(problems))


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render admin pages without running collectstatic first."""
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(autouse=True)
def _fresh_tenant_cache():
    """Each test's tenants are new rows (the last test's were rolled back): start from an empty cache."""
    from templates_catalog.models.images import forget_entries
    from tenancy import cache

    cache.clear()
    forget_entries()
    yield
    cache.clear()
    forget_entries()


@pytest.fixture(autouse=True)
def _enqueue_breaker_closed():
    """A test that made a send fail (broker down) must not make the next test's sends skipped."""
    from pods.dispatch import reset_breaker

    reset_breaker()


@pytest.fixture
def api():
    """A DRF test client."""
    return APIClient()


def database_url_for_tests():
    """The DATABASE_URL of the test database pytest-django created (for child processes)."""
    db = settings.DATABASES["default"]
    auth = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def child_env(**extra):
    """Environment for service processes started by tests: same code, test database."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url_for_tests(),
        "DJANGO_SETTINGS_MODULE": "pods_project.settings",
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "PODS_REDIS_PREFIX": settings.PODS_REDIS_PREFIX,
        "PYTHONUNBUFFERED": "1",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def all_queues() -> str:
    """Every queue of this run (spawn, sweep, bulk), for a test worker that consumes them all."""
    return ",".join((settings.CELERY_TASK_DEFAULT_QUEUE, settings.PODS_SWEEP_QUEUE, settings.PODS_BULK_QUEUE))


@pytest.fixture(scope="session")
def celery_queue():
    """This run's own queue (see tests/settings.py): what the code under test sends tasks to."""
    assert settings.CELERY_TASK_DEFAULT_QUEUE.startswith("pods-test-")
    return settings.CELERY_TASK_DEFAULT_QUEUE


@pytest.fixture(scope="session", autouse=True)
def _drop_run_queue(celery_queue):
    """Tasks nobody consumed (wake-ups sent by API tests) go with the run's queue at the end."""
    yield
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    client.delete(celery_queue, settings.PODS_SWEEP_QUEUE, settings.PODS_BULK_QUEUE,
                  *client.scan_iter(f"{settings.PODS_REDIS_PREFIX}:*"))


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, celery_queue, tmp_path_factory):
    """A real ``celery worker`` process consuming this session's queue from the real Redis."""
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    with django_db_blocker.unblock():
        env = child_env(CELERY_TASK_DEFAULT_QUEUE=celery_queue)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "pods_project", "worker", "--pool", "solo",
             "--loglevel", "INFO", "-Q", all_queues(), "--without-heartbeat", "--without-gossip",
             "--without-mingle", "-n", f"{celery_queue}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while b"ready." not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- Identity -----------------------------------------------------------------------------------

@pytest.fixture
def make_tenant(db):
    """Create a tenant with a generated signing key: ``make_tenant("acme", admins=["boss"])``."""
    from tenancy.services import tenant_create

    def _make(tenant_id="dev", **kwargs):
        kwargs.setdefault("pod_domain", f"{tenant_id}.example.org" if tenant_id != "dev" else "localhost")
        return tenant_create(tenant_id=tenant_id, generate_key=True, **kwargs)

    return _make


@pytest.fixture
def tenant(make_tenant):
    """Tenant ``dev`` (pod domain ``localhost``) whose admin is ``boss``."""
    return make_tenant("dev", admins=["boss"])


@pytest.fixture
def other_tenant(make_tenant):
    return make_tenant("other")


@pytest.fixture
def token_for(tenant):
    """``token_for("alice")`` → a valid X-Tapis-Token for alice in ``tenant`` (or another tenant)."""
    from tenancy.services import dev_token

    def _token(username, in_tenant=None, ttl=3600):
        return dev_token(tenant=in_tenant or tenant, username=username, ttl=ttl)

    return _token


@pytest.fixture
def principal_for(tenant):
    """``principal_for("alice")`` → a Principal in ``tenant`` (or another), as the auth layer builds."""
    from tenancy.identity import Principal

    def _principal(username, in_tenant=None, admin_mode=False):
        t = in_tenant or tenant
        return Principal(tenant=t, username=username, is_tenant_admin=t.is_admin(username),
                         admin_mode=admin_mode)

    return _principal


@pytest.fixture
def client_for(token_for):
    """``client_for("alice")`` → an APIClient sending alice's token (``admin_mode=True`` adds X-Pods-Admin)."""

    def _client(username, in_tenant=None, admin_mode=False):
        c = APIClient()
        headers = {"HTTP_X_TAPIS_TOKEN": token_for(username, in_tenant)}
        if admin_mode:
            headers["HTTP_X_PODS_ADMIN"] = "true"
        c.credentials(**headers)
        return c

    return _client


# --- A simulated cluster -------------------------------------------------------------------------

# The worker's code runs as a ServiceAccount holding the Roles of deploy/base/rbac.yaml (RBAC
# enforced): a Kubernetes call the deployed service may not make fails the test that makes it.
TEST_ACCOUNT = ("default", "pods-tests")


@pytest.fixture(scope="session")
def kubesim_server():
    """One in-process kubesim (manual clock, RBAC enforced) for the session; each test resets it."""
    from tests.deploy.rbac import base_rbac_for_tests

    sim = kubesim.start_in_thread(config=kubesim.Config(seed=42, rbac=True))
    sim.apply_rbac(base_rbac_for_tests("default", *TEST_ACCOUNT))
    yield sim
    sim.stop()


@pytest.fixture
def sim(kubesim_server, tmp_path, settings):
    """A fresh simulated cluster, with the worker's client pointed at it as the deployed worker."""
    from workers.spawner import forget_default_deny

    from workers.breaker import log_breaker

    kubesim_server.reset()
    forget_default_deny()  # the reset cluster has none of the worker's namespace policies
    log_breaker().success()  # a previous test's failing API must not pause this one's log collection
    token = kubesim_server.service_account_token(*TEST_ACCOUNT)
    settings.PODS_KUBECONFIG = str(kubesim.write_kubeconfig(tmp_path / "kubeconfig", kubesim_server.url, token))
    settings.PODS_KUBE_NAMESPACE = "default"
    settings.PODS_KUBE_BACKOFF_MAX = 0.05  # keep retries quick in tests
    kube_client.reset_client()
    yield kubesim_server
    refused = [u for u in kubesim_server.usage() if u["forbidden"]]
    kubesim_server.clear_faults()
    kube_client.reset_client()
    assert not refused, f"the code made requests deploy/base/rbac.yaml does not grant: {refused}"


@pytest.fixture
def core(sim, tmp_path):
    """A separate CoreV1Api (cluster admin) for the test's own look at the cluster."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(sim.write_kubeconfig(tmp_path / "admin-kubeconfig")))
    yield client.CoreV1Api(api)
    api.close()
