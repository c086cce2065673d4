"""The pages a browser sees at a pod's address when the pod is not answering, and how
/traefik-config wires them (errors middleware, catch-all router, the login callback route)."""
import pytest

from pods.choices import PodStatus
from pods.models import Pod

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml"}


def test_error_handler_answers_clients_with_the_envelope(client):
    response = client.get("/error-handler/404")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["status"] == "error" and "not a Pods endpoint" in response.json()["message"]
    assert client.get("/error-handler/503").json()["message"].startswith("Unable to parse")
    assert client.get("/error-handler/777").status_code == 400


@pytest.mark.parametrize("status, page, code", [
    (PodStatus.CREATING, "This pod is starting", 503),
    (PodStatus.STOPPED, "This pod is not running", 503),
    (PodStatus.ERROR, "This pod is not running", 503),
])
def test_browsers_get_a_page_about_the_pod(client, make_pod, status, page, code):
    pod = make_pod("web", status_requested="OFF")
    Pod.objects.filter(pk=pod.pk).update(status=status, status_container={"message": "Image 'x' could not be pulled"})
    for path in ("/error-handler/502", "/pod-splash"):
        response = client.get(path, HTTP_X_FORWARDED_HOST="web.pods.localhost", **HTML)
        assert response.status_code == code and page in response.content.decode()
        assert response["Content-Type"].startswith("text/html")


def test_an_unknown_host_gets_the_not_found_page(client, db):
    response = client.get("/pod-splash", HTTP_X_FORWARDED_HOST="nothing.pods.localhost", **HTML)
    assert response.status_code == 404 and "No pod here" in response.content.decode()


def test_the_page_escapes_what_it_shows(client, make_pod):
    pod = make_pod("web")
    Pod.objects.filter(pk=pod.pk).update(status=PodStatus.ERROR, status_container={"message": "<script>x</script>"})
    text = client.get("/pod-splash", HTTP_X_FORWARDED_HOST="web.pods.localhost", **HTML).content.decode()
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_traefik_config_wires_the_pages_and_the_login_route(client, make_pod, settings):
    settings.PODS_PUBLIC_URL = "https://api.example.org"
    pod = make_pod("web", networking={"default": {"protocol": "http", "port": 5000, "tapis_auth": True}})
    Pod.objects.filter(pk=pod.pk).update(status=PodStatus.AVAILABLE)
    http = client.get("/traefik-config").json()["http"]
    assert http["routers"][pod.k8_name]["middlewares"] == [f"{pod.k8_name}-auth", "pods-errors"]
    assert http["middlewares"]["pods-errors"]["errors"] == {"status": ["502-504"], "service": "pods-service",
                                                           "query": "/error-handler/{status}"}
    login = http["routers"][f"{pod.k8_name}-login"]
    assert login["rule"] == "Host(`web.pods.localhost`) && PathPrefix(`/v3/pods/web/auth/`)"
    assert login["service"] == "pods-service" and "middlewares" not in login
    assert http["services"]["pods-service"]["loadBalancer"]["servers"] == [{"url": "https://api.example.org"}]
    assert http["routers"]["pods-splash"]["priority"] == 1
