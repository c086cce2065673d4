"""The Traefik dynamic configuration served at /traefik-config."""
import pytest

from pods.choices import PodStatus
from pods.models import Pod

pytestmark = pytest.mark.django_db


def test_only_available_pods_are_routed_per_protocol(make_pod, client, settings):
    settings.PODS_PUBLIC_URL = "https://api.example.org"
    pod = make_pod(networking={
        "default": {"protocol": "http", "port": 5000, "ip_allow_list": ["10.0.0.0/8"]},
        "db": {"protocol": "postgres", "port": 5432},
        "bolt": {"protocol": "tcp", "port": 7687},
        "admin": {"protocol": "http", "port": 9000, "tapis_auth": True,
                  "tapis_auth_response_headers": {"X-User": "<<tapisusername>>"}},
        "internal": {"protocol": "local_only", "port": 6000},
    })
    make_pod("idle")
    idle = client.get("/traefik-config").json()
    # parity2: only the browser pages' catch-all router and this service (no pod is routed).
    assert set(idle["http"]["routers"]) == {"pods-splash"} and set(idle["http"]["services"]) == {"pods-service"}
    assert idle["tcp"] == {"routers": {}, "services": {}}
    Pod.objects.filter(pk=pod.pk).update(status=PodStatus.AVAILABLE)

    response = client.get("/traefik-config")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    config = response.json()
    name = pod.k8_name
    http, tcp = config["http"], config["tcp"]
    assert http["routers"][name]["rule"] == "Host(`mypod.pods.localhost`)"
    assert http["services"][name]["loadBalancer"]["servers"] == [{"url": f"http://{name}.default.svc:5000"}]
    assert http["middlewares"][f"{name}-ipallowlist"] == {"ipAllowList": {"sourceRange": ["10.0.0.0/8"]}}
    assert http["middlewares"][f"{name}-admin-auth"]["forwardAuth"] == {
        "address": "https://api.example.org/v3/pods/mypod-admin/auth?tenant=dev", "authResponseHeaders": ["X-User"]}
    assert tcp["routers"][f"{name}-db"]["tls"] == {"passthrough": True}
    assert tcp["routers"][f"{name}-bolt"]["rule"] == "HostSNI(`mypod-bolt.pods.localhost`)"
    assert "passthrough" not in tcp["routers"][f"{name}-bolt"]["tls"]
    assert not any("internal" in router for router in [*http["routers"], *tcp["routers"]])
    assert not any("idle" in router for router in http["routers"])


@pytest.mark.parametrize("path", ["/traefik-config", "/pods/traefik-config", "/v3/pods/traefik-config"])
def test_served_without_a_token_at_every_path(client, db, path):
    assert client.get(path).status_code == 200


def test_cors_applies_only_once_someone_holds_approvedadmin(make_pod, client, django_assert_max_num_queries):
    from core.permissions import PermissionLevel
    from pods.models import PodPermission

    pod = make_pod(networking={"default": {"protocol": "http", "port": 5000,
                                           "cors_allow_origins": ["https://app.example.org"]}})
    Pod.objects.filter(pk=pod.pk).update(status=PodStatus.AVAILABLE)
    middleware = f"{pod.k8_name}-cors"
    assert middleware not in client.get("/traefik-config").json()["http"].get("middlewares", {})
    PodPermission.objects.create(pod=pod, username="siteadmin", level=PermissionLevel.APPROVEDADMIN)
    config = client.get("/traefik-config").json()
    assert config["http"]["middlewares"][middleware]["headers"]["accessControlAllowOriginList"] == [
        "https://app.example.org"]
    assert config["http"]["routers"][pod.k8_name]["middlewares"] == [middleware, "pods-errors"]
    for i in range(5):
        Pod.objects.filter(pk=make_pod(f"more{i}").pk).update(status=PodStatus.AVAILABLE)
    with django_assert_max_num_queries(1):
        from workers.traefik import current_config

        current_config()


@pytest.mark.parametrize("path", ["/traefik-config", "/pods/traefik-config", "/v3/pods/traefik-config"])
def test_a_token_protects_the_proxy_configuration(make_pod, client, settings, path):
    """Security finding 10: /traefik-config lists every tenant's running pods to anyone."""
    settings.PODS_TRAEFIK_CONFIG_TOKEN = "s3cret-token"
    pod = make_pod(networking={"default": {"protocol": "http", "port": 5000}})
    Pod.objects.filter(pk=pod.pk).update(status=PodStatus.AVAILABLE)
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_X_PODS_TRAEFIK_CONFIG_TOKEN": "s3cret"},
                    {"HTTP_AUTHORIZATION": "Basic czNjcmV0LXRva2Vu"}):
        response = client.get(path, **headers)
        assert response.status_code == 403 and response["Content-Type"] == "application/json"
        assert pod.k8_name not in response.content.decode()
        assert "PODS_TRAEFIK_CONFIG_TOKEN" in response.json()["message"]
    for headers in ({"HTTP_AUTHORIZATION": "Bearer s3cret-token"},
                    {"HTTP_X_PODS_TRAEFIK_CONFIG_TOKEN": "s3cret-token"}):
        response = client.get(path, **headers)
        assert response.status_code == 200
        assert pod.k8_name in response.json()["http"]["routers"]


def test_rendered_once_per_change_and_answered_304_while_unchanged(make_pod, client, django_assert_max_num_queries):
    from workers import traefik

    pod = make_pod(networking={"default": {"protocol": "http", "port": 5000}})
    Pod.objects.filter(pk=pod.pk).update(status=PodStatus.AVAILABLE)
    first = client.get("/traefik-config")
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and pod.k8_name in first.json()["http"]["routers"]
    # Unchanged: the version's two aggregate queries, no render; 304 with no body when asked.
    with django_assert_max_num_queries(2):
        again = client.get("/traefik-config")
    assert again.content == first.content and again["ETag"] == etag
    with django_assert_max_num_queries(2):
        cached = client.get("/traefik-config", HTTP_IF_NONE_MATCH=f'W/{etag}, "other"')
    assert cached.status_code == 304 and cached.content == b"" and cached["ETag"] == etag
    assert client.get("/traefik-config", HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    # Any change the configuration depends on is a new version: a definition edited even
    # behind the service's back, a pod leaving AVAILABLE.
    networking = Pod.objects.get(pk=pod.pk).networking
    Pod.objects.filter(pk=pod.pk).update(networking={"default": {**networking["default"], "port": 5001}})
    edited = client.get("/traefik-config", HTTP_IF_NONE_MATCH=etag)
    assert edited.status_code == 200 and edited["ETag"] != etag
    assert edited.json()["http"]["services"][pod.k8_name]["loadBalancer"]["servers"][0]["url"].endswith(":5001")
    Pod.objects.filter(pk=pod.pk).update(status=PodStatus.STOPPED)
    routers = client.get("/traefik-config", HTTP_IF_NONE_MATCH=edited["ETag"]).json()["http"]["routers"]
    assert pod.k8_name not in routers and set(routers) == {"pods-splash"}  # only the browser pages' catch-all
    traefik.clear_cache()
