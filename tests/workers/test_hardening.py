"""What reaches the cluster is locked down (security hardening): every container drops every
capability, cannot escalate, runs under the default seccomp profile; credentials travel only in
Secrets owned by the Pod; a denied image never starts. Checked on the objects kubesim stored,
read back through the real kubernetes client."""
import base64
import json

import pytest

from pods.choices import PodStatus as S
from pods.models import Pod, PodPermission
from templates_catalog.models import Image
from workers.spawner import reconcile_pod
from workers.sweep import sweep

pytestmark = pytest.mark.django_db


def fresh(pod):
    return Pod.objects.get(pk=pod.pk)


def stored(core, kind, name):
    """The object as kubesim stores it, as JSON text (to search for what must not be there)."""
    api = core.api_client
    reader = {"pod": core.read_namespaced_pod, "secret": core.read_namespaced_secret}[kind]
    return json.dumps(api.sanitize_for_serialization(reader(name, "default")))


def secrets_of(core, pod):
    return [s for s in core.list_namespaced_secret("default").items
            if (s.metadata.labels or {}).get("pods-service/pod-uid") == str(pod.uid)]


def decoded(secret) -> dict:
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


def test_a_custom_pod_drops_every_capability_and_escalation(sim, make_pod, core):
    pod = make_pod()
    reconcile_pod(pod.pk)
    kpod = core.read_namespaced_pod(pod.k8_name, "default")
    context = kpod.spec.containers[0].security_context
    assert context.capabilities.drop == ["ALL"] and not context.capabilities.add
    assert context.allow_privilege_escalation is False and context.privileged is False
    assert kpod.spec.security_context.seccomp_profile.type == "RuntimeDefault"
    assert kpod.spec.automount_service_account_token is False
    sim.advance(30)
    sweep()
    assert fresh(pod).status == S.AVAILABLE


@pytest.fixture
def catalog(db):
    from templates_catalog.catalog.install import catalog_install

    catalog_install()


@pytest.fixture
def from_template(alice, catalog):
    from pods.services.pods import pod_create

    def _create(pod_id, template, **data):
        return pod_create(principal=alice, data={"pod_id": pod_id, "template": template, **data})

    return _create


def test_a_catalog_pod_gets_back_only_what_its_template_declares(sim, from_template, core):
    neo4j = from_template("graph", "neo4j")
    jupyter = from_template("notebook", "jupyterlab")
    for pod in (neo4j, jupyter):
        reconcile_pod(pod.pk)
    graph = core.read_namespaced_pod(neo4j.k8_name, "default")
    assert graph.spec.containers[0].security_context.capabilities.drop == ["ALL"]
    assert sorted(graph.spec.containers[0].security_context.capabilities.add) == [
        "CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    notebook = core.read_namespaced_pod(jupyter.k8_name, "default")
    assert not notebook.spec.containers[0].security_context.capabilities.add
    assert (notebook.spec.security_context.run_as_non_root, notebook.spec.security_context.run_as_user) == (True, 1000)


def test_no_credential_reaches_the_cluster_in_plain_text(sim, from_template, core):
    pod = from_template("graph", "neo4j", arguments=["--password=<<TAPIS_user_password>>"],
                        volume_mounts={"/conf/app.ini": {"type": "ephemeral",
                                                         "config_content": "pw=<<TAPIS_admin_password>>"}})
    reconcile_pod(pod.pk)
    creds = fresh(pod).credentials
    text = stored(core, "pod", pod.k8_name)
    assert creds.user_password not in text and creds.admin_password not in text
    assert not core.list_namespaced_config_map("default").items
    container = core.read_namespaced_pod(pod.k8_name, "default").spec.containers[0]
    assert container.args == ["--password=$(PODS_CREDENTIAL_USER_PASSWORD)"]
    env = {e.name: e for e in container.env}
    assert env["PODS_ADMIN_PASSWORD"].value is None and env["PODS_ADMIN_PASSWORD"].value_from.secret_key_ref
    values = {}
    for secret in secrets_of(core, pod):
        values.update(decoded(secret))
    assert values["PODS_ADMIN_PASSWORD"] == creds.admin_password
    assert values["NEO4J_AUTH"] == f"neo4j/{creds.admin_password}"
    assert values["PODS_CREDENTIAL_USER_PASSWORD"] == creds.user_password
    assert values["app.ini"] == f"pw={creds.admin_password}"


def test_the_secrets_go_with_the_pod(sim, make_pod, core):
    from pods.services.pods import pod_stop

    pod = make_pod(environment_variables={"PASSWORD": "<<TAPIS_user_password>>"},
                   volume_mounts={"/etc/x.conf": {"type": "ephemeral", "config_content": "x"}})
    reconcile_pod(pod.pk)
    kpod = core.read_namespaced_pod(pod.k8_name, "default")
    secrets = secrets_of(core, pod)
    assert len(secrets) == 2
    assert all(s.metadata.owner_references[0].uid == kpod.metadata.uid for s in secrets)
    sim.advance(30)
    sweep()
    pod_stop(pod=fresh(pod), actor="alice")
    reconcile_pod(pod.pk)
    sim.advance(60)
    sweep()
    assert fresh(pod).status == S.STOPPED
    assert secrets_of(core, pod) == []


def test_a_users_placeholder_never_brings_the_admin_password_into_the_cluster(sim, make_pod, core, alice, tenant):
    """Security finding 6, end to end: a USER writes <<TAPIS_admin_password>>, the owner restarts."""
    from pods.services.pods import pod_restart, pod_update
    from tenancy.identity import Principal

    pod = make_pod()
    PodPermission.objects.create(pod=pod, username="bob", level=2)
    bob = Principal(tenant=tenant, username="bob")
    pod_update(pod=fresh(pod), principal=bob, data={"environment_variables": {
        "STOLEN": "<<TAPIS_admin_password>>", "MINE": "<<TAPIS_user_password>>"}})
    pod_restart(pod=fresh(pod), actor="alice")
    for _ in range(4):
        reconcile_pod(pod.pk)
        sim.advance(60)
        sweep()
    assert fresh(pod).status in (S.CREATING, S.AVAILABLE)
    creds = fresh(pod).credentials
    everything = stored(core, "pod", pod.k8_name) + "".join(json.dumps(decoded(s)) for s in secrets_of(core, pod))
    assert creds.admin_password not in everything
    assert creds.user_password in everything  # the user account is the USER's to use
    env = {e.name: e for e in core.read_namespaced_pod(pod.k8_name, "default").spec.containers[0].env}
    assert env["STOLEN"].value == "<<TAPIS_admin_password>>"


def test_an_image_the_tenant_denied_after_create_never_starts(sim, make_pod, names, tenant):
    pod = make_pod(image="kubesim/web:1")
    Image.objects.create(tenant=tenant, image="kubesim/web", tenants=["-dev"], added_by="boss")
    assert reconcile_pod(pod.pk) == "invalid spec"
    pod = fresh(pod)
    assert pod.status == S.ERROR and "denied for tenant 'dev'" in pod.status_container["message"]
    assert names("pods") == []


def test_a_template_may_add_back_only_the_sites_capabilities(tenant, client_for, settings):
    alice = client_for("alice")
    assert alice.post("/v3/pods/templates", {"template_id": "mine"}, format="json").status_code == 200

    def publish(security):
        return alice.post("/v3/pods/templates/mine/tags", {"commit_message": "x", "pod_definition": {
            "image": "kubesim/web", "security": security}}, format="json")

    for security, field in (({"capabilities": ["SYS_ADMIN"]}, "capabilities"),
                            ({"capabilities": ["NET_RAW"]}, "capabilities"),
                            ({"run_as_non_root": True, "run_as_user": 0}, "run_as_user"),
                            ({"privileged": True}, "privileged")):
        response = publish(security)
        assert response.status_code == 400, response.content
        assert f"pod_definition.security.{field}" in response.json()["metadata"]["errors"]
    assert publish({"capabilities": ["cap_chown"]}).json()["result"]["pod_definition"]["security"] == {
        "capabilities": ["CHOWN"]}
    # A pod cannot declare it for itself.
    response = alice.post("/v3/pods", {"pod_id": "x", "image": "kubesim/web", "security": {"capabilities": ["CHOWN"]}},
                          format="json")
    assert response.status_code == 400 and "security" in response.json()["metadata"]["errors"]


# --- NetworkPolicies: only the proxy (and, on local_only ports, the tenant's pods) get in ------

def plain_pod(core, name, labels, namespace="default"):
    core.create_namespaced_pod(namespace, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "kubesim/web:1"}]}})
    return f"{namespace}/{name}"


PROXY = {"app.kubernetes.io/name": "pods-service", "app.kubernetes.io/component": "proxy"}


def test_a_pod_accepts_only_the_proxy_and_on_local_only_ports_its_tenants_pods(
        sim, make_pod, core, principal_for, other_tenant):
    from pods.services.pods import pod_create

    pod = make_pod(networking={"default": {"protocol": "http", "port": 5000, "tapis_auth": True},
                               "admin": {"protocol": "http", "port": 9000, "ip_allow_list": ["10.1.0.0/16"]},
                               "db": {"protocol": "postgres", "port": 5432},
                               "internal": {"protocol": "local_only", "port": 6000}})
    neighbour = make_pod("neighbour")
    foreign = pod_create(principal=principal_for("mallory", other_tenant),
                         data={"pod_id": "intruder", "image": "kubesim/web:1"})
    for p in (pod, neighbour, foreign):
        assert reconcile_pod(p.pk) == "created"
    proxy = plain_pod(core, "traefik", PROXY)
    stranger = plain_pod(core, "stranger", {"app": "anything"})
    target = f"default/{pod.k8_name}"

    def allowed(source, port):
        return sim.reachable(source, target, port)["allowed"]

    for port in (5000, 9000, 5432):  # what the proxy routes (and checks auth and allow-lists for)
        assert allowed(proxy, port), port
        assert not allowed(f"default/{neighbour.k8_name}", port), port
        assert not allowed(f"default/{foreign.k8_name}", port), port
        assert not allowed(stranger, port), port
    assert not allowed(proxy, 6000)  # local_only: never routed
    assert allowed(f"default/{neighbour.k8_name}", 6000)  # the tenant's own pods
    assert not allowed(f"default/{foreign.k8_name}", 6000)  # never another tenant's
    assert not allowed(proxy, 22)


def test_the_policy_is_owned_by_the_pod_and_goes_with_it(sim, make_pod, core):
    from kubernetes import client

    from pods.services.pods import pod_delete

    networking = client.NetworkingV1Api(core.api_client)
    pod = make_pod()
    reconcile_pod(pod.pk)
    policy = networking.read_namespaced_network_policy(pod.k8_name, "default")
    kpod = core.read_namespaced_pod(pod.k8_name, "default")
    assert policy.metadata.owner_references[0].uid == kpod.metadata.uid
    assert policy.spec.pod_selector.match_labels["pods-service/instance"] == str(fresh(pod).instance_id)
    deny = networking.read_namespaced_network_policy("pods-service-default-deny", "default")
    assert deny.spec.ingress in (None, []) and deny.spec.policy_types == ["Ingress"]

    from workers.spawner import remove_objects

    name, uid = pod.k8_name, str(pod.uid)
    pod_delete(pod=fresh(pod), actor="alice")
    remove_objects(name, uid)
    sim.advance(60)
    assert [p.metadata.name for p in networking.list_namespaced_network_policy("default").items] == [
        "pods-service-default-deny"]
    assert secrets_of(core, pod) == []


def test_the_proxy_selector_comes_from_settings(sim, make_pod, core, settings):
    settings.PODS_PROXY_POD_SELECTOR = ["role=edge"]
    settings.PODS_PROXY_NAMESPACE_SELECTOR = ["kubernetes.io/metadata.name=ingress"]
    core.create_namespace({"metadata": {"name": "ingress", "labels": {"kubernetes.io/metadata.name": "ingress"}}})
    pod = make_pod()
    reconcile_pod(pod.pk)
    edge = plain_pod(core, "edge", {"role": "edge"}, namespace="ingress")
    same_labels_elsewhere = plain_pod(core, "edge", {"role": "edge"})
    target = f"default/{pod.k8_name}"
    assert sim.reachable(edge, target, 5000)["allowed"]
    assert not sim.reachable(same_labels_elsewhere, target, 5000)["allowed"]
