"""Bad input is a 400 whose message names the field; duplicates 409; quotas 403."""
import pytest

from pods.models import Pod
from tests.messages import message_text


def create(client, **fields):
    fields.setdefault("pod_id", "mypod")
    fields.setdefault("image", "kubesim/happy")
    return client.post("/v3/pods", fields, format="json")


def assert_400_naming(response, field, words=""):
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["status"] == "error"
    assert field in body["metadata"]["errors"], body
    assert f"{field}:" in message_text(body)
    assert words.lower() in " ".join(body["metadata"]["errors"][field]).lower()


@pytest.mark.parametrize("pod_id,words", [
    ("ab", "at least 3"),
    ("a" * 65, "no more than 64"),
    ("1abc", "lowercase letter"),
    ("Mypod", "lowercase letter"),
    ("my-pod", "lowercase letter"),
    ("my_pod", "lowercase letter"),
    (5, "string"),
])
def test_pod_id_format(tenant, alice, pod_id, words):
    assert_400_naming(create(alice, pod_id=pod_id), "pod_id", words)


@pytest.mark.parametrize("word", ["templates", "images", "volumes", "snapshots", "secrets", "jupyter",
                                  "metrics", "stacks", "nodes", "admin", "auth", "permissions"])
def test_reserved_words_are_refused_as_pod_ids(tenant, alice, word):
    assert_400_naming(create(alice, pod_id=word), "pod_id", "reserved")


def test_pod_id_is_required(tenant, alice):
    assert_400_naming(alice.post("/v3/pods", {"image": "kubesim/happy"}, format="json"), "pod_id", "required")


def test_unknown_fields_are_refused_with_their_names(tenant, alice):
    response = create(alice, colour="blue", networking={"default": {"port": 8000, "bogus": 1}})
    assert_400_naming(response, "colour", "unknown field")
    assert_400_naming(response, "networking.default.bogus", "unknown field")
    assert not Pod.objects.exists()


def test_every_bad_field_is_named_at_once(tenant, alice):
    response = create(alice, pod_id="x", time_to_stop_default=5, environment_variables={"A": 1})
    errors = response.json()["metadata"]["errors"]
    assert {"pod_id", "time_to_stop_default", "environment_variables.A"} <= set(errors)


@pytest.mark.parametrize("networking,field,words", [
    ({k: {} for k in ("default", "aaa", "bbb", "ccc", "ddd")}, "networking", "at most 4"),
    ({"default": {"protocol": "udp"}}, "networking.default.protocol", "http, tcp, postgres, local_only"),
    ({"default": {"port": 0}}, "networking.default.port", "greater than or equal to 1"),
    ({"default": {"port": 65536}}, "networking.default.port", "less than or equal to 65535"),
    ({"default": {"port": "80"}}, "networking.default.port", "integer"),
    ({"ab": {}}, "networking", "3-64 lowercase"),
    ({"Web": {}}, "networking", "3-64 lowercase"),
    ({"default": {"ip_allow_list": ["*"]}}, "networking.default.ip_allow_list", "not an ipv4"),
    ({"default": {"protocol": "tcp", "tapis_auth": True}}, "networking.default.tapis_auth", "only allowed with protocol 'http'"),
    ({"default": {"tapis_auth_return_path": "nope"}}, "networking.default.tapis_auth_return_path", "start with '/'"),
    ({"default": {"cors_max_age": 1000}}, "networking.default.cors_max_age", "less than or equal to 100"),
    ({"default": "http"}, "networking.default", "expected a JSON object"),
])
def test_networking_rules(tenant, alice, networking, field, words):
    assert_400_naming(create(alice, networking=networking), field, words)


@pytest.mark.parametrize("resources,field,words", [
    ({"cpu_limit": 100}, "resources.cpu_limit", "250..6000"),
    ({"mem_limit": 20000}, "resources.mem_limit", "256..12288"),
    ({"gpus": 2}, "resources.gpus", "0..1"),
    ({"cpu_request": 3000}, "resources.cpu_request", "must not exceed cpu_limit"),
    ({"mem_request": 4000, "mem_limit": 3000}, "resources.mem_request", "must not exceed mem_limit"),
    ({"cpu": 1}, "resources.cpu", "unknown field"),
    ({"cpu_limit": 1.5}, "resources.cpu_limit", "integer"),
])
def test_resources_rules(tenant, alice, resources, field, words):
    assert_400_naming(create(alice, resources=resources), field, words)


def test_resource_bounds_come_from_settings(tenant, alice, settings):
    settings.PODS_CPU_MAX = 1000
    assert_400_naming(create(alice, resources={"cpu_limit": 2000}), "resources.cpu_limit", "250..1000")


@pytest.mark.parametrize("field", ["time_to_stop_default", "time_to_stop_instance"])
@pytest.mark.parametrize("value,ok", [(-1, True), (300, True), (299, False), (0, False), (-5, False)])
def test_time_to_stop_is_minus_one_or_at_least_300(tenant, alice, field, value, ok):
    response = create(alice, **{field: value})
    if ok:
        assert response.status_code == 200
        assert response.json()["result"][field] == value
    else:
        assert_400_naming(response, field, "-1")


def test_compute_queue_must_be_configured(tenant, alice, settings):
    assert_400_naming(create(alice, compute_queue="gpu"), "compute_queue", "available: default")
    settings.PODS_COMPUTE_QUEUES = ["default", "gpu"]
    assert create(alice, compute_queue="gpu").json()["result"]["compute_queue"] == "gpu"


@pytest.mark.parametrize("env,field,words", [
    ({"A": 5}, "environment_variables.A", "string"),
    ({"A": None}, "environment_variables.A", "null"),
    ({"1BAD": "x"}, "environment_variables", "invalid variable name"),
    (["A=1"], "environment_variables", "dictionary"),
])
def test_environment_values_are_strings(tenant, alice, env, field, words):
    assert_400_naming(create(alice, environment_variables=env), field, words)


@pytest.mark.parametrize("field,value,words", [
    ("command", "sleep 5", "list"),
    ("command", [1, 2], "string"),
    ("arguments", {"a": 1}, "list"),
    ("status_requested", "MAYBE", "valid choice"),
    ("description", "x" * 405, "must be less than 404 characters"),
    ("template", "neo4j", "not found"),
])
def test_simple_field_rules(tenant, alice, field, value, words):
    assert_400_naming(create(alice, **{field: value}), field, words)


@pytest.mark.parametrize("image,words", [
    ("evil/miner", "allow-list"),
    ("docker.io/evil/miner:latest", "allow-list"),
    ("Not An Image", "not a valid image"),
    ("", "required"),
])
def test_image_must_be_valid_and_allowed(tenant, alice, image, words):
    assert_400_naming(create(alice, image=image), "image", words)


def test_image_allow_list_comes_from_settings(tenant, alice, settings):
    settings.PODS_IMAGE_ALLOWLIST = ["myorg/*"]
    assert_400_naming(create(alice, image="kubesim/happy"), "image", "allow-list")
    assert create(alice, image="myorg/tool:1.2").status_code == 200


@pytest.mark.parametrize("mounts,field", [
    ({"myvol": {"type": "tapisvolume", "mount_path": "/data"}}, "volume_mounts./data"),
    ({"/data": {"type": "tapissnapshot", "source_id": "snap1"}}, "volume_mounts./data"),
])
def test_mounts_of_volumes_the_caller_cannot_see_are_refused(tenant, alice, mounts, field):
    assert_400_naming(create(alice, volume_mounts=mounts), field, "that you can see")


def test_pvc_mount_is_a_pod_private_claim(tenant, alice):
    response = create(alice, volume_mounts={"/data": {"type": "pvc", "source_id": "claim", "sub_path": "db"}})
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["volume_mounts"]["/data"] == {
        "type": "pvc", "source_id": "claim", "sub_path": "db", "read_only": False}


@pytest.mark.parametrize("mounts,field,words", [
    ({"/data": {"type": "nfs"}}, "volume_mounts./data", "type must be one of"),
    ({"/etc/x": {"type": "ephemeral"}}, "volume_mounts./etc/x", "needs config_content"),
    ({"/etc/x": {"type": "ephemeral", "config_content": "a", "sub_path": "../.."}}, "volume_mounts./etc/x.sub_path", "'..'"),
    ({"vol": {"type": "ephemeral", "config_content": "a", "mount_path": "relative"}}, "volume_mounts.vol", "absolute"),
    ({"/etc/x": {"type": "ephemeral", "config_content": "a", "colour": 1}}, "volume_mounts./etc/x.colour", "unknown"),
])
def test_volume_mount_rules(tenant, alice, mounts, field, words):
    assert_400_naming(create(alice, volume_mounts=mounts), field, words)


def test_ephemeral_mounts_are_stored_path_keyed_in_both_formats(tenant, alice):
    new = create(alice, pod_id="newfmt",
                 volume_mounts={"/etc/app.conf": {"type": "ephemeral", "config_content": "x=1"}})
    assert new.status_code == 200, new.json()
    stored = Pod.objects.get(pod_id="newfmt").volume_mounts
    assert stored == {"/etc/app.conf": {"type": "ephemeral", "config_content": "x=1", "read_only": True,
                                        "config_permissions": "0644", "sub_path": ""}}
    # The response never echoes file contents (they may hold secrets).
    assert new.json()["result"]["volume_mounts"]["/etc/app.conf"]["config_content"] == "<redacted>"


def test_legacy_name_keyed_mounts_are_converted_to_path_keyed():
    """The conversion itself (the API then checks the caller's access to each source)."""
    from podspec import mounts as spec

    converted = spec.normalise_volume_mounts({
        "myvol": {"type": "tapisvolume", "mount_path": "/data", "sub_path": "a"},
        "snap": {"type": "tapissnapshot"},  # no mount_path: upstream's default path
        "/new": {"type": "tapisvolume", "source_id": "other"},
    })
    assert converted == {
        "/data": {"type": "tapisvolume", "source_id": "myvol", "sub_path": "a", "read_only": False},
        "/tapis_volume_mount": {"type": "tapissnapshot", "source_id": "snap", "sub_path": "", "read_only": True},
        "/new": {"type": "tapisvolume", "source_id": "other", "sub_path": "", "read_only": False},
    }


@pytest.mark.parametrize("body", [[{"pod_id": "abc"}], "pod", None])
def test_body_that_is_not_an_object_is_400(tenant, alice, body):
    response = alice.post("/v3/pods", body, format="json")
    assert response.status_code == 400


def test_malformed_json_is_400(tenant, alice):
    response = alice.post("/v3/pods", data="{nope", content_type="application/json")
    assert response.status_code == 400


def test_duplicate_pod_id_in_the_tenant_is_409(tenant, alice, bob):
    assert create(alice).status_code == 200
    response = create(bob)  # another user, same tenant: ids are per tenant
    assert response.status_code == 409
    assert "mypod" in message_text(response.json())
    assert Pod.objects.count() == 1


def test_same_pod_id_in_another_tenant_is_fine(tenant, other_tenant, alice, client_for):
    assert create(alice).status_code == 200
    assert create(client_for("alice", in_tenant=other_tenant)).status_code == 200


def test_pod_quota_is_403_naming_it(tenant, alice):
    tenant.max_pods = 1
    tenant.save()
    assert create(alice, pod_id="first").status_code == 200
    response = create(alice, pod_id="second")
    assert response.status_code == 403
    assert "max_pods" in message_text(response.json())
    assert response.json()["metadata"]["quota"] == "max_pods"


def test_tenants_have_pod_quotas_by_default(tenant, alice, bob, settings):
    """Security finding 10: without a quota of its own a tenant could create pods without end."""
    settings.PODS_TENANT_MAX_PODS, settings.PODS_USER_MAX_PODS = 3, 2
    assert create(alice, pod_id="one").status_code == 200
    assert create(alice, pod_id="two").status_code == 200
    response = create(alice, pod_id="three")
    assert response.status_code == 403 and response.json()["metadata"]["quota"] == "max_pods_per_user"
    assert create(bob, pod_id="three").status_code == 200
    response = create(bob, pod_id="four")
    assert response.status_code == 403 and response.json()["metadata"]["quota"] == "max_pods"
    assert Pod.objects.count() == 3
    tenant.max_pods, tenant.max_pods_per_user = 10, 5  # the tenant's own values replace the defaults
    tenant.save()
    assert create(alice, pod_id="five").status_code == 200


def test_per_user_quota_counts_pods_the_user_created(tenant, alice, bob, settings):
    settings.PODS_USER_MAX_PODS = 1
    assert create(alice, pod_id="one").status_code == 200
    alice.post("/v3/pods/one/permissions", {"user": "bob", "level": "ADMIN"}, format="json")
    assert create(bob, pod_id="two").status_code == 200  # being granted a pod is not creating one


@pytest.mark.parametrize("field,value", [
    ("command", ["x"] * 257),
    ("arguments", ["x" * 32769]),
    ("environment_variables", {f"V{i}": "x" for i in range(257)}),
    ("environment_variables", {"V": "x" * 32769}),
    ("volume_mounts", {f"/f{i}": {"type": "ephemeral", "config_content": "x"} for i in range(33)}),
    ("networking", {"default": {"ip_allow_list": [f"10.0.0.{i}" for i in range(65)]}}),
    ("networking", {"default": {"tapis_auth_allowed_users": ["u"] * 65}}),
    ("networking", {"default": {"cors_allow_origins": ["https://a.org"] * 65}}),
    ("networking", {"default": {"tapis_auth_response_headers": {f"X-{i}": "v" for i in range(33)}}}),
])
def test_every_list_and_dict_field_is_bounded(tenant, alice, field, value):
    response = create(alice, **{field: value})
    assert response.status_code == 400, response.content
    assert field in message_text(response.json())
    assert not Pod.objects.exists()


def test_cpu_and_memory_quotas_count_every_pods_limits(tenant, alice):
    tenant.max_cpu_millicores = 3000
    tenant.max_memory_mb = 100000
    tenant.save()
    assert create(alice, pod_id="first", resources={"cpu_limit": 2000}).status_code == 200
    response = create(alice, pod_id="second", resources={"cpu_limit": 1500})
    assert response.status_code == 403
    assert "max_cpu_millicores" in message_text(response.json())
    assert create(alice, pod_id="third", resources={"cpu_limit": 1000}).status_code == 200
    tenant.max_memory_mb = 7000
    tenant.save()
    response = alice.put("/v3/pods/third", {"resources": {"mem_limit": 4000}}, format="json")
    assert response.status_code == 403
    assert "max_memory_mb" in message_text(response.json())


@pytest.mark.parametrize("body,field", [
    ({"pod_id": "renamed"}, "pod_id"),
    ({"colour": "red"}, "colour"),
    ({"time_to_stop_instance": 10}, "time_to_stop_instance"),
    ({"networking": {"default": {"protocol": "udp"}}}, "networking.default.protocol"),
    ({"resources": {"cpu_request": 5000}}, "resources.cpu_request"),
    ({"image": "evil/miner"}, "image"),
])
def test_update_validates_like_create(tenant, alice, body, field):
    create(alice)
    assert_400_naming(alice.put("/v3/pods/mypod", body, format="json"), field)


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_query_flags_must_be_booleans(tenant, alice, value):
    create(alice)
    response = alice.get(f"/v3/pods/mypod/restart?grab_latest_template_tag={value}")
    assert_400_naming(response, "grab_latest_template_tag", "true or false")
