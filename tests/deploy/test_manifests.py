"""deploy/: what `kubectl kustomize deploy/overlays/<overlay>` renders is valid Kubernetes, hardened,
least-privileged and consistent with the settings it feeds."""
import re

import kubernetes_validate
import pytest

from tests.deploy.manifests import (OVERLAYS, ROOT, SERVICE_NAMESPACE, config_data, named, of_kind, procfile_commands,
                                    render, settings_variables, workloads)

K8S_VERSION = "1.28.0"
RENDERINGS = [f"overlays/{o}" for o in OVERLAYS] + [f"overlays/{o}/migrate" for o in OVERLAYS]
APP_COMPONENTS = {"web", "worker", "beat", "watcher", "migrate"}
API_CLIENTS = {"pods-worker", "pods-watcher", "pods-web"}  # the only ServiceAccounts with a Role


def full(overlay):
    """An overlay's service plus its migration Job."""
    return render(f"overlays/{overlay}") + render(f"overlays/{overlay}/migrate")


def component(obj):
    return obj["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")


def test_overlays_exist():
    assert {"production", "local"} <= set(OVERLAYS)


@pytest.mark.parametrize("path", RENDERINGS)
def test_every_rendered_object_validates_against_the_kubernetes_schema(path):
    objects = render(path)
    assert objects
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']} {obj['metadata'].get('name')}: {exc.message} at {list(exc.path)}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_is_hardened_with_requests_and_limits(overlay):
    for obj, pod in workloads(full(overlay)):
        where = f"{obj['kind']} {obj['metadata']['name']}"
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] > 0, where
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert "hostNetwork" not in pod and "hostPID" not in pod, where
        for container in pod["containers"] + pod.get("initContainers", []):
            ctx = container["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True, where
            assert ctx["allowPrivilegeEscalation"] is False, where
            assert ctx["capabilities"] == {"drop": ["ALL"]}, where
            assert ctx.get("privileged") in (None, False), where
            resources = container["resources"]
            assert set(resources["requests"]) >= {"cpu", "memory"}, where
            assert set(resources["limits"]) >= {"cpu", "memory"}, where
            assert ":" in container["image"] and not container["image"].endswith(":latest"), where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_service_namespace_enforces_the_restricted_pod_security_standard(overlay):
    namespaces = {n["metadata"]["name"]: n["metadata"]["labels"] for n in of_kind(full(overlay), "Namespace")}
    assert namespaces[SERVICE_NAMESPACE]["pod-security.kubernetes.io/enforce"] == "restricted"
    pods_namespace = config_data(render(f"overlays/{overlay}"))["PODS_KUBE_NAMESPACE"]
    assert namespaces[pods_namespace]["pod-security.kubernetes.io/enforce"] == "baseline"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_worker_watcher_and_web_get_a_kubernetes_token(overlay):
    objects = full(overlay)
    accounts = {sa["metadata"]["name"]: sa for sa in of_kind(objects, "ServiceAccount")}
    for obj, pod in workloads(objects):
        account = pod.get("serviceAccountName", "default")
        mounts_token = pod.get("automountServiceAccountToken",
                               accounts.get(account, {}).get("automountServiceAccountToken", True))
        assert mounts_token == (account in API_CLIENTS), obj["metadata"]["name"]
    for name, account in accounts.items():
        if name not in API_CLIENTS:
            assert account["automountServiceAccountToken"] is False, name
    web = named(objects, "Deployment", "pods-web")["spec"]["template"]["spec"]
    assert web["serviceAccountName"] == "pods-web" and web["automountServiceAccountToken"] is True
    assert not any(e["name"] == "KUBECONFIG" for e in web["containers"][0].get("env", []))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_roles_are_namespaced_to_the_pods_and_bound_only_to_the_api_clients(overlay):
    objects = full(overlay)
    assert not of_kind(objects, "ClusterRole") and not of_kind(objects, "ClusterRoleBinding")
    pods_namespace = config_data(objects)["PODS_KUBE_NAMESPACE"]
    roles = {r["metadata"]["name"]: r for r in of_kind(objects, "Role")}
    accounts = {(sa["metadata"]["namespace"], sa["metadata"]["name"]) for sa in of_kind(objects, "ServiceAccount")}
    bound = set()
    for binding in of_kind(objects, "RoleBinding"):
        assert binding["metadata"]["namespace"] == pods_namespace
        assert binding["roleRef"]["kind"] == "Role" and binding["roleRef"]["name"] in roles
        for subject in binding["subjects"]:
            assert subject["kind"] == "ServiceAccount"
            assert (subject["namespace"], subject["name"]) in accounts
            bound.add(subject["name"])
    assert bound == API_CLIENTS
    for role in roles.values():
        assert role["metadata"]["namespace"] == pods_namespace
        for rule in role["rules"]:
            # Core resources, and the pods' NetworkPolicies.
            assert rule["apiGroups"] == [""] or (rule["apiGroups"] == ["networking.k8s.io"]
                                                  and rule["resources"] == ["networkpolicies"])
            assert "*" not in rule["verbs"] and not any("*" in r for r in rule["resources"])
            assert not {"pods/attach", "serviceaccounts"} & set(rule["resources"])
            if "secrets" in rule["resources"]:  # the pods' credentials go in; nothing reads one back
                assert rule["resources"] == ["secrets"] and rule["verbs"] == ["create"]
            if "pods/exec" in rule["resources"]:  # files and commands (docs/volumes.md): exec and only exec
                assert rule["resources"] == ["pods/exec"] and set(rule["verbs"]) == {"create", "get"}
                assert role["metadata"]["name"] in ("pods-web", "pods-worker")
            assert not {"update", "patch", "deletecollection", "escalate", "bind", "impersonate"} & set(rule["verbs"])


def app_containers(objects):
    """(workload, container) of every container running the service's own image."""
    return [(obj, c) for obj, pod in workloads(objects) for c in pod["containers"] if "pods-service" in c["image"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_environment_variable_is_one_the_settings_read(overlay):
    read = settings_variables()
    objects = full(overlay)
    names = set(config_data(objects))
    names |= {e["name"].removesuffix("_FILE") for _, c in app_containers(objects) for e in c.get("env", [])}
    assert not names - read, f"set in deploy/ but never read by the settings: {sorted(names - read)}"


def _file_mounts(pod, container):
    """{env name without _FILE: (secret name, key)} for every *_FILE variable of the container."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    paths = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        sources = [volume["secret"] | {"name": volume["secret"]["secretName"]}] if "secret" in volume else \
            [s["secret"] for s in volume.get("projected", {}).get("sources", []) if "secret" in s]
        for source in sources:
            for item in source.get("items", []):
                optional = source.get("optional", False)
                paths[f"{mount['mountPath']}/{item['path']}"] = (source["name"], item["key"], optional)
    found = {}
    for env in container.get("env", []):
        if env["name"].endswith("_FILE"):
            assert env["value"] in paths, f"{env['name']}={env['value']} is not a mounted secret key"
            found[env["name"].removesuffix("_FILE")] = paths[env["value"]]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_reach_the_processes_as_files_named_by_their_key(overlay):
    objects = full(overlay)
    for obj, pod in workloads(objects):
        if component(obj) not in APP_COMPONENTS:
            continue
        container = pod["containers"][0]
        mounted = _file_mounts(pod, container)
        for variable, (secret, key, _) in mounted.items():
            assert secret == "pods-secrets" and key == variable, obj["metadata"]["name"]
        # What the settings require in production, for every process.
        assert {"DJANGO_SECRET_KEY", "PODS_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"} <= set(mounted)
        # Secrets never travel as plain environment values.
        assert not any("value" in e and not e["name"].endswith("_FILE") and e["name"] in
                       {"DJANGO_SECRET_KEY", "PODS_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"}
                       for e in container.get("env", []))
    web = named(objects, "Deployment", "pods-web")["spec"]["template"]["spec"]
    assert "PODS_TRAEFIK_CONFIG_TOKEN" in _file_mounts(web, web["containers"][0])
    worker = named(objects, "Deployment", "pods-worker")["spec"]["template"]["spec"]
    assert "PODS_TRAEFIK_CONFIG_TOKEN" not in _file_mounts(worker, worker["containers"][0])


def test_the_local_overlay_secret_has_every_required_key_and_production_ships_none():
    local = named(render("overlays/local"), "Secret", "pods-secrets")
    assert set(local["data"]) == {"DJANGO_SECRET_KEY", "PODS_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL",
                                  "PODS_TRAEFIK_CONFIG_TOKEN"}
    # Production secrets are the operator's (docs/deploy.md): applying the overlay never overwrites them.
    assert not [s for s in of_kind(render("overlays/production"), "Secret") if s["metadata"]["name"] == "pods-secrets"]
    assert "kubectl -n pods-system create secret generic pods-secrets" in (ROOT / "docs" / "deploy.md").read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_probes_the_healthcheck_with_an_allowed_host_and_stays_alive_through_outages(overlay):
    objects = render(f"overlays/{overlay}")
    allowed = config_data(objects)["DJANGO_ALLOWED_HOSTS"].split(",")
    web = named(objects, "Deployment", "pods-web")["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "readinessProbe"):
        get = web[probe]["httpGet"]
        assert get["path"] == "/healthcheck"
        assert {h["name"]: h["value"] for h in get["httpHeaders"]}["Host"] in allowed
    assert "httpGet" not in web["livenessProbe"], "a database outage must not restart the web"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_processes_run_the_procfile_programs_on_the_configured_queue(overlay):
    objects = render(f"overlays/{overlay}")
    procfile = procfile_commands()
    for name in ("web", "worker", "beat", "watcher"):
        command = named(objects, "Deployment", f"pods-{name}")["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command[0] == procfile[name][0].rsplit("/", 1)[-1] and command[1:3] == procfile[name][1:3]
    worker = named(objects, "Deployment", "pods-worker")["spec"]["template"]["spec"]["containers"][0]["command"]
    assert worker[worker.index("-Q") + 1] == config_data(objects)["CELERY_TASK_DEFAULT_QUEUE"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_beat_never_two_during_a_rollout(overlay):
    beat = named(render(f"overlays/{overlay}"), "Deployment", "pods-beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"


def _selects(selector, labels):
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value = labels.get(expr["key"])
        if expr["operator"] == "In" and value not in expr["values"]:
            return False
    return True


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_select_what_they_mean(overlay):
    objects = full(overlay)
    templates = {o["metadata"]["name"]: o["spec"]["template"]["metadata"]["labels"] for o, _ in workloads(objects)}
    for deployment in of_kind(objects, "Deployment"):
        assert _selects(deployment["spec"]["selector"], templates[deployment["metadata"]["name"]])
    for pdb in of_kind(objects, "PodDisruptionBudget"):
        assert [n for n, labels in templates.items() if _selects(pdb["spec"]["selector"], labels)] == \
            [pdb["metadata"]["name"]]
    for service in of_kind(objects, "Service"):
        selector = {"matchLabels": service["spec"]["selector"]}
        assert [n for n, labels in templates.items() if _selects(selector, labels)] == [service["metadata"]["name"]]
    for policy in of_kind(objects, "NetworkPolicy"):
        assert any(_selects(policy["spec"]["podSelector"], labels) for labels in templates.values()), \
            policy["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_let_only_the_proxy_reach_the_web(overlay):
    objects = full(overlay)
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(objects, "NetworkPolicy")}
    assert policies["pods-default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    web_labels = named(objects, "Deployment", "pods-web")["spec"]["template"]["metadata"]["labels"]
    ingress_to_web = [rule for spec in policies.values() if "Ingress" in spec["policyTypes"]
                      and _selects(spec["podSelector"], web_labels) for rule in spec.get("ingress", [])]
    assert ingress_to_web == [{"from": [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "pods-service", "app.kubernetes.io/component": "proxy"}}}],
        "ports": [{"protocol": "TCP", "port": 8000}]}]
    for name in ("pods-worker", "pods-beat", "pods-watcher"):
        labels = named(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert not [s for s in policies.values() if s.get("ingress") and _selects(s["podSelector"], labels)], name
    # The proxy reaches the user pods, wherever PODS_KUBE_NAMESPACE puts them.
    targets = [peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
               for rule in policies["pods-proxy"]["egress"] for peer in rule["to"]]
    assert config_data(objects)["PODS_KUBE_NAMESPACE"] in targets


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_service_object_looks_like_a_user_pod_to_the_sweep(overlay):
    # The sweep deletes managed objects it has no row for; the service's own pods must never be one.
    for obj in full(overlay):
        labels = obj["metadata"].get("labels", {})
        template = obj.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}) \
            if isinstance(obj.get("spec"), dict) else {}
        assert "pods-service" not in (labels.get("app.kubernetes.io/managed-by"),
                                      template.get("app.kubernetes.io/managed-by"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_proxy_polls_traefik_config_with_the_shared_secret_and_routes_the_api(overlay):
    objects = render(f"overlays/{overlay}")
    config = config_data(objects)
    proxy = named(objects, "Deployment", "pods-proxy")["spec"]["template"]["spec"]
    args = dict(a.removeprefix("--").split("=", 1) for a in proxy["containers"][0]["args"])
    web_service = named(objects, "Service", "pods-web")
    assert args["providers.http.endpoint"] == \
        f"http://{web_service['metadata']['name']}:{web_service['spec']['ports'][0]['port']}/traefik-config"
    assert args["providers.http.headers.X-Pods-Traefik-Config-Token"] == "$(PODS_TRAEFIK_CONFIG_TOKEN)"
    env = {e["name"]: e for e in proxy["containers"][0]["env"]}
    assert env["PODS_TRAEFIK_CONFIG_TOKEN"]["valueFrom"]["secretKeyRef"] == \
        {"name": "pods-secrets", "key": "PODS_TRAEFIK_CONFIG_TOKEN"}
    for entrypoint in (config["PODS_TRAEFIK_HTTP_ENTRYPOINT"], config["PODS_TRAEFIK_TCP_ENTRYPOINT"]):
        assert f"entryPoints.{entrypoint}.address" in args
    # The API's own route names a host the web accepts, and CSRF trusts it over HTTPS.
    dynamic = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("pods-proxy-dynamic-")]
    mounts = {m["name"]: m["mountPath"] for m in proxy["containers"][0]["volumeMounts"]}
    volume = next(v for v in proxy["volumes"] if "configMap" in v)
    assert volume["configMap"]["name"] == dynamic[0]["metadata"]["name"]
    directory, key = args["providers.file.filename"].rsplit("/", 1)
    assert mounts[volume["name"]] == directory and key in dynamic[0]["data"]
    host = re.search(r"Host\(`([^`]+)`\)", dynamic[0]["data"]["proxy-dynamic.yaml"]).group(1)
    assert host in config["DJANGO_ALLOWED_HOSTS"].split(",")
    assert f"https://{host}" in config["DJANGO_CSRF_TRUSTED_ORIGINS"].split(",")
    # forwardAuth goes to the web by a name it accepts.
    public = re.match(r"https?://([^:/]+)", config["PODS_PUBLIC_URL"]).group(1)
    assert public in config["DJANGO_ALLOWED_HOSTS"].split(",")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_migration_runs_the_same_image_as_the_service(overlay):
    service_images = {c["image"] for _, pod in workloads(render(f"overlays/{overlay}")) for c in pod["containers"]
                      if "pods-service" in c["image"]}
    job = named(render(f"overlays/{overlay}/migrate"), "Job", "pods-migrate")
    assert len(service_images) == 1
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] in service_images
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_keep_the_measured_roles_unchanged(overlay):
    # The worker tests enforce deploy/base/rbac.yaml directly (tests/conftest.py); what an overlay
    # renders must be the same rules.
    from kubesim.rbac.files import documents

    from tests.deploy.rbac import BASE

    base = {r["metadata"]["name"]: r["rules"] for r in documents((BASE / "rbac.yaml").read_text())
            if r["kind"] == "Role"}
    rendered = {r["metadata"]["name"]: r["rules"] for r in of_kind(full(overlay), "Role")}
    assert rendered == base


def test_the_image_user_is_the_one_the_manifests_run_as():
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.findall(r"^USER (\S+)$", dockerfile, re.M)[-1]
    assert user.isdigit(), "a numeric USER lets runAsNonRoot verify the image"
    for overlay in OVERLAYS:
        for obj, container in app_containers(full(overlay)):
            assert str(obj["spec"]["template"]["spec"]["securityContext"]["runAsUser"]) == user


def test_docs_list_the_roles_as_granted():
    docs = (ROOT / "docs" / "deploy.md").read_text()
    for role in of_kind(full("production"), "Role"):
        summary = "; ".join(f"{resource}: {', '.join(rule['verbs'])}" for rule in role["rules"]
                            for resource in rule["resources"])
        row = next(line for line in docs.splitlines() if f"| `{role['metadata']['name']}` |" in line)
        assert summary in row, f"docs/deploy.md's table is out of date for {role['metadata']['name']}: {summary}"
