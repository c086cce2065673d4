"""kubectl 1.32 exec and cp (over WebSockets), volumes and NetworkPolicies, end to end."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

STORAGE_YAML = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {mode: fast, app.ini: "[main]\\nlevel=3\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
"""

POD_YAML = """\
apiVersion: v1
kind: Pod
metadata: {name: %(name)s}
spec:
  containers:
  - name: main
    image: busybox:1.36
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: cfg, mountPath: /etc/app}
    - {name: sec, mountPath: /etc/creds, readOnly: true}
    - {name: scratch, mountPath: /ro, readOnly: true}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - {name: cfg, configMap: {name: app-config}}
  - {name: sec, secret: {secretName: creds}}
  - {name: scratch, emptyDir: {}}
"""

NETPOL_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {role: api}}}]
    ports: [{port: 5432}]
"""


@pytest.fixture
def web(kubectl, sim):
    kubectl("run", "web", "--image=kubesim/web:1")
    sim.advance(5)
    return "web"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_exec_exit_codes_stderr_and_stdin(kubectl, web):
    ok = kubectl("exec", "web", "--", "sh", "-c", "echo out; echo err >&2")
    assert (ok.stdout, ok.stderr) == ("out\n", "err\n")
    failed = kubectl("exec", "web", "--", "sh", "-c", "exit 7", check=False)
    assert failed.returncode == 7
    assert failed.stderr == "command terminated with exit code 7\n"
    piped = kubectl("exec", "-i", "web", "--", "sh", "-c", "tr a-z A-Z; wc -l", input="ab\ncd\n")
    assert piped.stdout == "AB\nCD\n0\n"
    missing = kubectl("exec", "web", "--", "nosuch", check=False)
    assert missing.returncode == 1
    assert 'exec: "nosuch": executable file not found in $PATH' in missing.stderr
    shell_missing = kubectl("exec", "web", "--", "sh", "-c", "nosuch", check=False)
    assert (shell_missing.returncode, shell_missing.stderr) == (
        127, "sh: nosuch: not found\ncommand terminated with exit code 127\n")
    bad_container = kubectl("exec", "web", "-c", "nope", "--", "true", check=False)
    assert bad_container.returncode == 1
    assert "container nope is not valid for pod web" in bad_container.stderr
    # The scenario image's main process left its files behind.
    assert kubectl("exec", "web", "--", "cat", "/run/web.pid").stdout == "1\n"
    assert "listening on 0.0.0.0:5000" in kubectl("exec", "web", "--", "cat",
                                                  "/var/log/web.log").stdout


def test_cp_round_trips_a_binary_file_and_a_tree(kubectl, web, tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(5 * 1024 * 1024))
    kubectl("cp", str(blob), "web:/tmp/blob.bin")
    remote = kubectl("exec", "web", "--", "sha256sum", "/tmp/blob.bin").stdout.split()[0]
    assert remote == sha256(blob)
    back = tmp_path / "back.bin"
    kubectl("cp", "web:/tmp/blob.bin", str(back))
    assert sha256(back) == sha256(blob)

    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "empty").mkdir()
    (tree / "a" / "one.txt").write_text("one\n")
    (tree / "a" / "b" / "data.bin").write_bytes(os.urandom(70_000))
    (tree / "top.txt").write_text("top\n")
    kubectl("exec", "web", "--", "mkdir", "-p", "/srv/upload")
    kubectl("cp", str(tree), "web:/srv/upload/tree")
    listing = kubectl("exec", "web", "--", "find", "/srv/upload/tree", "-printf",
                      "%y %P\n").stdout.splitlines()
    assert sorted(listing) == ["d ", "d a", "d a/b", "d empty", "f a/b/data.bin", "f a/one.txt",
                               "f top.txt"]
    out = tmp_path / "out"
    kubectl("cp", "web:/srv/upload/tree", str(out))
    for path in tree.rglob("*"):
        twin = out / path.relative_to(tree)
        assert twin.is_dir() if path.is_dir() else sha256(twin) == sha256(path)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == \
        sorted(p.relative_to(tree) for p in tree.rglob("*"))


def test_volumes_configmaps_secrets_and_claim_capacity(kubectl, sim, tmp_path):
    (tmp_path / "storage.yaml").write_text(STORAGE_YAML)
    kubectl("apply", "-f", str(tmp_path / "storage.yaml"))
    sim.advance(2)
    for name in ("writer", "reader"):
        (tmp_path / f"{name}.yaml").write_text(POD_YAML % {"name": name})
    kubectl("create", "-f", str(tmp_path / "writer.yaml"))
    sim.advance(5)

    files = kubectl("exec", "writer", "--", "sh", "-c",
                    "cat /etc/app/mode; echo; cat /etc/app/app.ini /etc/creds/password; "
                    "ls /etc/app").stdout
    assert files == "fast\n[main]\nlevel=3\ns3cret" + "app.ini\nmode\n"

    readonly = kubectl("exec", "writer", "--", "sh", "-c", "echo x > /ro/new", check=False)
    assert readonly.returncode == 1
    assert readonly.stderr.startswith("sh: can't create /ro/new: Read-only file system")
    configmap = kubectl("exec", "writer", "--", "touch", "/etc/app/new", check=False)
    assert "touch: cannot touch '/etc/app/new': Read-only file system" in configmap.stderr

    kubectl("exec", "writer", "--", "sh", "-c", "echo kept > /data/keep")
    full = kubectl("exec", "writer", "--", "dd", "if=/dev/zero", "of=/data/big", "bs=1M",
                   "count=2", check=False)
    assert full.returncode == 1
    assert "dd: error writing '/data/big': No space left on device" in full.stderr
    kubectl("exec", "writer", "--", "rm", "/data/big")

    # The claim's data outlives the pod and is shared with the next one.
    kubectl("create", "-f", str(tmp_path / "reader.yaml"))
    sim.advance(5)
    assert kubectl("exec", "reader", "--", "cat", "/data/keep").stdout == "kept\n"
    kubectl("exec", "reader", "--", "sh", "-c", "echo from-reader > /data/shared")
    assert kubectl("exec", "writer", "--", "cat", "/data/shared").stdout == "from-reader\n"
    kubectl("delete", "pod", "writer", "reader", "--grace-period=0", "--force")
    kubectl("create", "-f", str(tmp_path / "writer.yaml"))
    sim.advance(5)
    assert kubectl("exec", "writer", "--", "cat", "/data/keep", "/data/shared").stdout == \
        "kept\nfrom-reader\n"


def test_networkpolicy_create_list_delete(kubectl, sim, tmp_path):
    (tmp_path / "np.yaml").write_text(NETPOL_YAML)
    assert kubectl("create", "-f", str(tmp_path / "np.yaml")).stdout.strip() == \
        "networkpolicy.networking.k8s.io/db-ingress created"
    table = kubectl("get", "networkpolicies").stdout.splitlines()
    assert table[0].split() == ["NAME", "POD-SELECTOR", "AGE"]
    assert table[1].split()[:2] == ["db-ingress", "app=db"]
    assert kubectl("get", "netpol", "db-ingress", "-o", "jsonpath={.spec.policyTypes}").stdout \
        == '["Ingress"]'
    assert kubectl("delete", "networkpolicy", "db-ingress").stdout.strip() == \
        'networkpolicy.networking.k8s.io "db-ingress" deleted'
    missing = kubectl("get", "netpol", "db-ingress", check=False)
    assert 'networkpolicies.networking.k8s.io "db-ingress" not found' in missing.stderr
