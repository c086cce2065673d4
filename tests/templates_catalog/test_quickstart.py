"""The upstream quickstart as a new user does it, through tapipy against a live server, with the
worker's real code driving kubesim through the real kubernetes client:

    t.pods.create_pod(pod_id='docpod', template='neo4j', description='My example pod!')
"""
import pytest
import requests

pytestmark = pytest.mark.live


@pytest.fixture
def users(live_server, transactional_db, make_tenant, sim):
    from tapipy.tapis import Tapis

    from templates_catalog.catalog.install import catalog_install
    from tenancy.services import dev_token

    tenant = make_tenant("dev")
    catalog_install()

    def _tapis(username):
        return Tapis(base_url=live_server.url, tenant_id="dev", access_token=dev_token(tenant=tenant, username=username))

    def _raw(username, path):
        return requests.get(f"{live_server.url}/v3{path}", timeout=10,
                            headers={"X-Tapis-Token": dev_token(tenant=tenant, username=username)})

    return _tapis, _raw


def run_worker(sim, pod_id):
    """What the worker and beat do: spawn, let the simulated kubelet start it, sweep, collect logs."""
    from pods.models import Pod
    from workers.logs import collect_logs
    from workers.spawner import reconcile_pod
    from workers.sweep import sweep

    pk = Pod.objects.get(pod_id=pod_id).pk
    assert reconcile_pod(pk) == "created"
    sim.advance(30)
    sweep()
    sim.advance(5)
    collect_logs()


def env_of(core, container) -> dict:
    """The container's environment as the kubelet builds it: values from Secrets included."""
    import base64

    env = {}
    for entry in container.env:
        if entry.value_from is None:
            env[entry.name] = entry.value
        else:
            ref = entry.value_from.secret_key_ref
            data = core.read_namespaced_secret(ref.name, "default").data
            env[entry.name] = base64.b64decode(data[ref.key]).decode()
    return env


def test_quickstart_neo4j(users, sim, core):
    from tapipy.errors import ForbiddenError

    tapis, raw = users
    t = tapis("alice")
    pod = t.pods.create_pod(pod_id="docpod", template="neo4j", description="My example pod!")
    assert pod.status == "REQUESTED" and pod.template.startswith("neo4j:latest@")

    run_worker(sim, "docpod")
    pod = t.pods.get_pod(pod_id="docpod")
    assert pod.status == "AVAILABLE"
    assert pod.url == "docpod.pods.localhost"
    assert pod.networking.default.url == "docpod.pods.localhost"
    assert pod.networking.browser.url == "docpod-browser.pods.localhost"
    assert (pod.networking.default.protocol, pod.networking.default.port) == ("tcp", 7687)
    assert (pod.networking.browser.protocol, pod.networking.browser.port) == ("http", 7474)

    creds = t.pods.get_pod_credentials(pod_id="docpod")
    assert creds.user_username == "docpod" and len(creds.user_password) == 30
    assert t.pods.get_pod_logs(pod_id="docpod").logs

    # The Pod that reached the sim carries the resolved credentials.
    kpod = core.read_namespaced_pod("pods-local-dev-docpod", "default")
    container = kpod.spec.containers[0]
    env = env_of(core, container)
    assert container.image == "neo4j:5-community"
    assert sorted(p.container_port for p in container.ports) == [7474, 7687]
    assert env["PODS_USER_USERNAME"] == "docpod" and env["PODS_USER_PASSWORD"] == creds.user_password
    assert env["PODS_ADMIN_USERNAME"] == "podsservice"
    admin_password = env["PODS_ADMIN_PASSWORD"]
    assert env["NEO4J_AUTH"] == f"neo4j/{admin_password}"

    # No other response shows them.
    for path in ("/pods", "/pods/docpod", "/pods/docpod/derived", "/pods/docpod/logs", "/pods/docpod/permissions"):
        text = raw("alice", path).text
        assert creds.user_password not in text and admin_password not in text, path

    # A reader sees the derived pod with its placeholders; only an ADMIN may resolve them.
    t.pods.set_pod_permission(pod_id="docpod", user="bob", level="READ")
    bob = tapis("bob")
    derived = bob.pods.get_derived_pod(pod_id="docpod")
    assert derived.environment_variables.PODS_USER_PASSWORD == "<<TAPIS_user_password>>"
    assert derived.image == "neo4j:5-community"
    # tapipy 25.4.0 does not know resolve_secrets (it drops the argument): plain HTTP for that.
    assert raw("bob", "/pods/docpod/derived?resolve_secrets=true").status_code == 403
    resolved = raw("alice", "/pods/docpod/derived?resolve_secrets=true").json()["result"]
    assert resolved["environment_variables"]["PODS_USER_PASSWORD"] == creds.user_password
    with pytest.raises(ForbiddenError):
        bob.pods.restart_pod(pod_id="docpod")


def test_save_pod_as_template_tag_and_grab_latest_through_tapipy(users, sim):
    tapis, _ = users
    t = tapis("alice")
    t.pods.create_pod(pod_id="docpod", template="neo4j", resources={"mem_limit": 4096})
    t.pods.add_template(template_id="mygraph", description="neo4j with 4 GiB")
    saved = t.pods.save_pod_as_template_tag(pod_id_net="docpod", template_id="mygraph", commit_message="from docpod")
    assert saved.pod_definition.resources.mem_limit == 4096
    assert saved.pod_definition.template.startswith("neo4j:latest@")

    first = t.pods.create_pod(pod_id="copy", template="mygraph")
    assert first.resources.mem_limit == 4096 and first.image == "neo4j:5-community"
    newer = t.pods.add_template_tag(template_id="mygraph", commit_message="6 GiB",
                                    pod_definition={"template": "neo4j", "resources": {"mem_limit": 6144}})
    assert t.pods.restart_pod(pod_id="copy").template == first.template
    moved = t.pods.restart_pod(pod_id="copy", grab_latest_template_tag=True)
    assert moved.template == f"mygraph:{newer.tag_timestamp}"
    assert moved.resources.mem_limit == 6144


def test_the_user_guides_quickstart_word_for_word(users, sim, live_server):
    """The guide's ``create_pod(pod_id='docpod', pod_template='neo4j', description='My example pod!')``
    answers with the fields the upstream user guide shows: over HTTP as written; through tapipy
    25.4.0 (whose NewPod schema has no pod_template, so tapipy drops it) as ``template='neo4j'``,
    and the 400 tapipy gets for the guide's exact call says so."""
    from tapipy.errors import BadRequestError

    tapis, raw = users
    t = tapis("alice")
    with pytest.raises(BadRequestError) as refused:
        t.pods.create_pod(pod_id='docpod', pod_template='neo4j', description='My example pod!')
    assert "template='neo4j'" in str(refused.value)

    token = t.access_token.access_token
    body = requests.post(f"{live_server.url}/v3/pods", timeout=10, json={
        "pod_id": "docpod", "pod_template": "neo4j", "description": "My example pod!"},
        headers={"X-Tapis-Token": token}).json()
    pod = body["result"]
    assert pod["pod_id"] == "docpod" and pod["pod_template"] == "neo4j"
    assert pod["description"] == "My example pod!"
    assert (pod["status"], pod["status_requested"]) == ("REQUESTED", "ON")
    assert pod["url"] == "docpod.pods.localhost"  # the default entry: Bolt, as upstream's template

    again = t.pods.get_pod(pod_id='docpod')
    assert (again.pod_template, again.url) == ("neo4j", "docpod.pods.localhost")
    mine = t.pods.create_pod(pod_id='mypod', template='neo4j', description='My example pod!')
    assert (mine.pod_template, mine.url, mine.status) == ("neo4j", "mypod.pods.localhost", "REQUESTED")
    listed = raw("alice", "/pods").json()["result"]
    assert [(p["pod_id"], p["pod_template"], p["url"]) for p in listed] == [
        ("docpod", "neo4j", "docpod.pods.localhost"), ("mypod", "neo4j", "mypod.pods.localhost")]
