"""GET /v3/pods/{pod_id_net}/auth: Traefik's forwardAuth for networking entries with tapis_auth."""
import pytest

pytestmark = pytest.mark.django_db

NETWORKING = {
    "default": {"protocol": "http", "port": 5000, "tapis_auth": True,
                "tapis_auth_response_headers": {"X-Tapis-Username": "<<tapisusername>>@<<tapistenantid>>",
                                                "X-Site": "<<tapissiteid>>"}},
    "open": {"protocol": "http", "port": 8080, "tapis_auth": True, "tapis_auth_allowed_users": ["*"]},
    "named": {"protocol": "http", "port": 8081, "tapis_auth": True, "tapis_auth_allowed_users": ["Carol"]},
    "plain": {"protocol": "http", "port": 8082},
}


@pytest.fixture
def pod(client_for):
    response = client_for("alice").post("/v3/pods", {"pod_id": "guarded", "image": "kubesim/web:1",
                                                     "networking": NETWORKING}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["result"]


def auth(client, pod_id_net="guarded"):
    return client.get(f"/v3/pods/{pod_id_net}/auth")


def test_owner_passes_with_substituted_headers(pod, client_for):
    response = auth(client_for("alice"))
    assert response.status_code == 200
    assert response["X-Tapis-Username"] == "alice@dev"
    assert response["X-Site"] == "local"


def test_default_allows_only_users_holding_user_level(pod, client_for):
    assert auth(client_for("bob")).status_code == 403
    client_for("alice").post("/v3/pods/guarded/permissions", {"user": "bob", "level": "READ"}, format="json")
    assert auth(client_for("bob")).status_code == 403
    client_for("alice").post("/v3/pods/guarded/permissions", {"user": "bob", "level": "USER"}, format="json")
    assert auth(client_for("bob")).status_code == 200


def test_star_admits_any_user_of_the_tenant(pod, client_for, other_tenant):
    assert auth(client_for("bob"), "guarded-open").status_code == 200
    assert auth(client_for("bob", in_tenant=other_tenant), "guarded-open").status_code == 404


def test_named_users_compare_case_insensitively(pod, client_for):
    assert auth(client_for("carol"), "guarded-named").status_code == 200
    assert auth(client_for("bob"), "guarded-named").status_code == 403


def test_entry_without_tapis_auth_or_unknown_pod_is_404(pod, client_for):
    assert auth(client_for("alice"), "guarded-plain").status_code == 404
    assert auth(client_for("alice"), "guarded-nosuchkey").status_code == 404
    assert auth(client_for("alice"), "nosuchpod").status_code == 404


def test_anonymous_is_401_and_a_cookie_token_works(pod, api, token_for):
    assert auth(api).status_code == 401
    api.cookies["X-Tapis-Token"] = token_for("alice")
    response = auth(api)
    assert response.status_code == 200 and response["X-Tapis-Username"] == "alice@dev"


def test_invalid_cookie_token_is_401(pod, api):
    api.cookies["X-Tapis-Token"] = "garbage"
    assert auth(api).status_code == 401


# --- Bound to the pod's tenant (security finding 1) ----------------------------------------------

def _forward_auth_address(pod_k8_name: str, middleware: str = "auth") -> str:
    """The forwardAuth address /traefik-config writes for the pod's default entry, as a path."""
    from urllib.parse import urlsplit

    from pods.choices import PodStatus
    from pods.models import Pod
    from workers.traefik import current_config

    Pod.objects.update(status=PodStatus.AVAILABLE)
    address = current_config()["http"]["middlewares"][f"{pod_k8_name}-{middleware}"]["forwardAuth"]["address"]
    parts = urlsplit(address)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_a_user_of_another_tenant_with_a_same_id_pod_cannot_pass(client_for, other_tenant):
    """Tenant B's user owns a pod with the same id admitting "*": tenant A's proxy still refuses him."""
    alice = client_for("alice")
    assert alice.post("/v3/pods", {"pod_id": "guarded", "image": "kubesim/web:1", "networking": {
        "default": {"protocol": "http", "port": 5000, "tapis_auth": True}}}, format="json").status_code == 200
    mallory = client_for("mallory", in_tenant=other_tenant)
    assert mallory.post("/v3/pods", {"pod_id": "guarded", "image": "kubesim/web:1", "status_requested": "OFF",
                                     "networking": {"default": {"protocol": "http", "port": 5000, "tapis_auth": True,
                                                                "tapis_auth_allowed_users": ["*"]}}},
                        format="json").status_code == 200
    from pods.models import Pod

    address = _forward_auth_address(Pod.objects.get(tenant__tenant_id="dev").k8_name)
    traefik = {"HTTP_X_FORWARDED_HOST": "guarded.pods.localhost"}
    response = mallory.get(address, **traefik)
    assert response.status_code == 403, response.content
    assert "another tenant" in response.json()["message"]
    assert alice.get(address, **traefik).status_code == 200
    # Without the tenant in the address, the forwarded host still names tenant A's pod.
    assert mallory.get("/v3/pods/guarded/auth", **traefik).status_code == 403
    # And mallory's own pod (other.example.org) still works for mallory.
    assert mallory.get("/v3/pods/guarded/auth?tenant=other",
                       HTTP_X_FORWARDED_HOST="guarded.pods.other.example.org").status_code == 200


def test_forwarded_host_must_be_the_entrys_url(pod, client_for):
    alice = client_for("alice")
    assert alice.get("/v3/pods/guarded/auth?tenant=dev",
                     HTTP_X_FORWARDED_HOST="guarded.pods.localhost:443").status_code == 200
    for host in ("guarded-open.pods.localhost", "evil.example.org", "guarded.pods.localhost, evil.example.org"):
        response = alice.get("/v3/pods/guarded/auth?tenant=dev", HTTP_X_FORWARDED_HOST=host)
        assert response.status_code == 403, host
        assert "forwarded host" in response.json()["message"]


def test_unknown_tenant_in_the_address_is_404(pod, client_for):
    assert client_for("alice").get("/v3/pods/guarded/auth?tenant=nosuch").status_code == 404
