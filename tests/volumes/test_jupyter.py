"""ensure_jupyter_pod and upload_to_jupyter (upstream's contract; the upload works here)."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pods.models import Pod

from .test_mounts import execute, run_pod

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalog(tenant):
    from templates_catalog.catalog.install import catalog_install

    catalog_install()


def test_ensure_creates_once_then_returns_the_running_pod(alice, bob, catalog):
    first = alice.get("/v3/pods/jupyter/ensure").json()
    assert first["message"] == "Created new Jupyter pod successfully."
    assert first["result"]["pod_id"] == "tapistempjupyteralice001"
    assert first["result"]["url"] == "https://tapistempjupyteralice001.pods.localhost"
    pod = Pod.objects.get()
    assert pod.template.startswith("jupyterlab:") and pod.time_to_stop_default == 48 * 3600
    again = alice.get("/pods/jupyter/ensure").json()
    assert again["message"] == "Retrieved existing Jupyter pod successfully."
    assert again["result"]["pod_id"] == "tapistempjupyteralice001"
    alice.get("/v3/pods/tapistempjupyteralice001/stop")
    assert alice.get("/v3/pods/jupyter/ensure").json()["result"]["pod_id"] == "tapistempjupyteralice002"
    assert bob.get("/v3/pods/jupyter/ensure").json()["result"]["pod_id"] == "tapistempjupyterbob001"


def test_upload_to_jupyter_writes_below_the_notebook_root(alice, bob, catalog, sim):
    pod_id = alice.get("/v3/pods/jupyter/ensure").json()["result"]["pod_id"]
    run_pod(sim, pod_id)
    response = alice.post(f"/v3/pods/jupyter/{pod_id}/upload", {
        "file": SimpleUploadedFile("nb.ipynb", b'{"cells": []}'),
        "path": SimpleUploadedFile("path", b"work/nb.ipynb")}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["upload_path"] == "/home/jovyan/work/nb.ipynb"
    out = execute(alice, pod_id, ["cat", "/home/jovyan/work/nb.ipynb"])["result"]["execution_results"][0]
    assert out["stdout"] == '{"cells": []}'
    assert bob.post(f"/v3/pods/jupyter/{pod_id}/upload", {"file": SimpleUploadedFile("x", b"x"), "path": "a"},
                    format="multipart").status_code == 404
    bad = alice.post(f"/v3/pods/jupyter/{pod_id}/upload", {"file": SimpleUploadedFile("x", b"x"), "path": "../../etc/x"},
                     format="multipart")
    assert bad.status_code == 400
