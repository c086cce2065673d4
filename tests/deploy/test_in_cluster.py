"""In-cluster configuration: with no kubeconfig, the worker and the watcher find the API server and
their credentials as a pod does — KUBERNETES_SERVICE_HOST/PORT, and the ServiceAccount's token and
CA certificate as files — and act in the namespace their settings name.

The cluster is kubesim serving HTTPS with a certificate signed by a test CA and enforcing the
rendered RBAC; the ServiceAccount files are written to a temporary directory that the kubernetes
client's in-cluster loader is pointed at (its two path constants), the only thing simulated.
"""
import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes.config import incluster_config

import kubesim
from kubesim.rbac.files import rbac_objects
from pods.choices import PodStatus as S
from pods.models import Pod
from tests.deploy.manifests import config_data, render
from workers.kube import api as kube
from workers.kube import client as kube_client
from workers.kube.errors import ClusterUnavailable, PermanentKubeError

pytestmark = pytest.mark.django_db


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_tls(directory):
    """A CA and a server certificate for 127.0.0.1 it signed: (ca.crt, server.crt, server.key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("kubesim-ca")).issuer_name(_name("kubesim-ca"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("kubernetes")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("kubernetes.default.svc")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.crt", directory / "server.crt", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.fixture
def pod_environment(tmp_path, monkeypatch, settings):
    """kubesim over HTTPS with the rendered RBAC, and a pod's view of it: ``become(account)`` writes
    that ServiceAccount's token where the in-cluster loader reads it."""
    objects = render("overlays/production")
    namespace = config_data(objects)["PODS_KUBE_NAMESPACE"]
    ca, cert, key = write_tls(tmp_path)
    sim = kubesim.start_in_thread(config=kubesim.Config(rbac=True, tls_cert_file=str(cert), tls_key_file=str(key)))
    sim.call(lambda c: kubesim_namespace(c, namespace))
    sim.apply_rbac(rbac_objects(objects))

    account_dir = tmp_path / "serviceaccount"
    account_dir.mkdir()
    (account_dir / "ca.crt").write_bytes(ca.read_bytes())
    (account_dir / "namespace").write_text("pods-system")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(account_dir / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(account_dir / "ca.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(sim.port))
    settings.PODS_KUBECONFIG = ""  # what the settings make of an unset KUBECONFIG without ~/.kube/config
    settings.PODS_KUBE_SERVER = ""
    settings.PODS_KUBE_NAMESPACE = namespace
    settings.PODS_KUBE_BACKOFF_MAX = 0.05

    def become(account):
        (account_dir / "token").write_text(sim.service_account_token("pods-system", account))
        kube_client.reset_client()

    sim.become, sim.namespace = become, namespace
    yield sim
    kube_client.reset_client()
    sim.stop()


def kubesim_namespace(cluster, name):
    from kubesim import api
    from kubesim.resources import RESOURCES

    api.create(cluster, RESOURCES["namespaces"], "", {"metadata": {"name": name}})


def test_the_worker_spawns_and_sweeps_through_in_cluster_config(pod_environment, client_for):
    from workers.spawner import reconcile_pod
    from workers.sweep import sweep

    sim = pod_environment
    assert client_for("alice").post("/v3/pods", {"pod_id": "incluster", "image": "kubesim/web:1"},
                                    format="json").status_code == 200
    pod = Pod.objects.get(pod_id="incluster")
    sim.become("pods-worker")
    assert kube_client.api_client().configuration.host == f"https://127.0.0.1:{sim.port}"
    assert reconcile_pod(pod.pk) == "created"
    sim.advance(30)
    sweep()
    assert Pod.objects.get(pk=pod.pk).status == S.AVAILABLE
    used = {(u["user"], u["verb"], u["resource"], u["namespace"]) for u in sim.usage()}
    worker = "system:serviceaccount:pods-system:pods-worker"
    assert (worker, "create", "pods", sim.namespace) in used and (worker, "list", "pods", sim.namespace) in used
    assert not [u for u in sim.usage() if u["forbidden"]]


def test_the_watcher_lists_and_watches_as_its_own_account(pod_environment):
    sim = pod_environment
    sim.become("pods-watcher")
    version = kube.list_managed("pod")["metadata"]["resourceVersion"]
    assert [event for event, _ in kube.watch_managed_pods(version, timeout_seconds=1)] == ["BOOKMARK"]
    with pytest.raises(PermanentKubeError) as info:
        kube.create("pod", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                            "spec": {"containers": [{"name": "c", "image": "kubesim/web:1"}]}})
    assert "cannot create resource \"pods\"" in str(info.value) and "pods-watcher" in str(info.value)


def test_a_wrong_certificate_authority_is_refused(pod_environment, tmp_path):
    sim = pod_environment
    (tmp_path / "other").mkdir()
    other_ca, _, _ = write_tls(tmp_path / "other")
    sim.become("pods-watcher")
    with open(incluster_config.SERVICE_CERT_FILENAME, "wb") as fh:
        fh.write(other_ca.read_bytes())
    kube_client.reset_client()
    with pytest.raises(ClusterUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        kube.list_managed("pod")
    assert not sim.usage(), "nothing reached the API server"
