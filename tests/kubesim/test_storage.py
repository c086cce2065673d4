"""Container filesystems and volumes: emptyDir, ConfigMap/Secret/downwardAPI files, subPath,
PVC data (lifetime, sharing, capacity, expansion, ReadWriteOncePod, clones), NFS, env."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

import kubesim

from .helpers import pod_manifest


def claim(core, name, size="10Mi", modes=("ReadWriteOnce",), **spec):
    core.create_namespaced_persistent_volume_claim("default", {
        "metadata": {"name": name},
        "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": size}},
                 **spec}})


def pod_with(core, name, volumes, mounts, containers=("main",), image="alpine", **spec):
    core.create_namespaced_pod("default", {
        "metadata": {"name": name, "labels": spec.pop("labels", {})},
        "spec": {"containers": [{"name": c, "image": image, "volumeMounts": mounts,
                                 **spec.pop("container", {})} for c in containers],
                 "volumes": volumes, **spec}})


def sh(sim, pod, script, container=None, stdin=None):
    return sim.exec("default", pod, ["sh", "-c", script], container=container, stdin=stdin)


def test_empty_dir_is_shared_by_containers_and_gone_with_the_pod(sim, core):
    pod_with(core, "p", [{"name": "work", "emptyDir": {}}],
             [{"name": "work", "mountPath": "/work"}], containers=("a", "b"))
    sim.advance(5)
    sh(sim, "p", "echo from-a > /work/f; echo private > /tmp/t", container="a")
    assert sh(sim, "p", "cat /work/f; ls /tmp", container="b").stdout == b"from-a\n"
    core.delete_namespaced_pod("p", "default", grace_period_seconds=0)
    pod_with(core, "p", [{"name": "work", "emptyDir": {}}],
             [{"name": "work", "mountPath": "/work"}], containers=("a",))
    sim.advance(5)
    assert sh(sim, "p", "ls /work | wc -l", container="a").stdout == b"0\n"


def test_empty_dir_size_limit_and_memory_medium(sim, core):
    pod_with(core, "p", [{"name": "small", "emptyDir": {"sizeLimit": "1Ki"}},
                         {"name": "mem", "emptyDir": {"medium": "Memory"}}],
             [{"name": "small", "mountPath": "/small"}, {"name": "mem", "mountPath": "/mem"}])
    sim.advance(5)
    r = sh(sim, "p", "head -c 2000 /dev/zero > /small/f; echo $?; wc -c < /small/f; "
                     "df -T /mem | tail -1 | cut -d' ' -f1")
    assert r.stdout == b"1\n1024\ntmpfs\n"
    assert b"No space left on device" in r.stderr


def test_container_restart_starts_from_a_fresh_image_but_keeps_volumes(sim, core):
    core.create_namespaced_pod("default", {
        "metadata": {"name": "c", "annotations": {"kubesim.io/run-seconds": "30"}},
        "spec": {"containers": [{"name": "main", "image": "alpine",
                                 "volumeMounts": [{"name": "v", "mountPath": "/v"}]}],
                 "volumes": [{"name": "v", "emptyDir": {}}]}})
    sim.advance(5)
    sh(sim, "c", "echo layer > /root/note; echo volume > /v/note")
    sim.advance(30)  # exits, restarts immediately
    assert core.read_namespaced_pod("c", "default").status.container_statuses[0] \
        .restart_count == 1
    r = sh(sim, "c", "cat /root/note /v/note")
    assert r.stdout == b"volume\n"
    assert r.stderr == b"cat: /root/note: No such file or directory\n"


def test_configmap_and_secret_files_follow_their_objects(sim, core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm"},
                                                  "data": {"a": "1", "b": "2"},
                                                  "binaryData": {"bin": "AAEC"}})
    core.create_namespaced_secret("default", {"metadata": {"name": "s"},
                                              "stringData": {"token": "t0k", "key": "k"}})
    pod_with(core, "p",
             [{"name": "cm", "configMap": {"name": "cm"}},
              {"name": "some", "configMap": {"name": "cm", "defaultMode": 0o600,
                                             "items": [{"key": "a", "path": "sub/renamed"}]}},
              {"name": "s", "secret": {"secretName": "s", "items": [
                  {"key": "token", "path": "token", "mode": 0o400}]}},
              {"name": "one", "configMap": {"name": "cm"}}],
             [{"name": "cm", "mountPath": "/cm"}, {"name": "some", "mountPath": "/some"},
              {"name": "s", "mountPath": "/s"},
              {"name": "one", "mountPath": "/etc/b.conf", "subPath": "b"}])
    sim.advance(5)
    r = sh(sim, "p", "ls /cm; wc -c < /cm/bin; echo $(cat /some/sub/renamed); "
                     "stat -L -c %a /some/sub/renamed /s/token; echo $(cat /s/token); ls /s; "
                     "echo $(cat /etc/b.conf); readlink /cm/a")
    assert r.stdout.decode().splitlines() == ["a", "b", "bin", "3", "1", "600", "400", "t0k",
                                              "token", "2", "..data/a"], r.stderr
    core.patch_namespaced_config_map("cm", "default", {"data": {"a": "changed", "c": "new"}})
    r = sh(sim, "p", "cat /cm/a; echo; cat /cm/c; echo; cat /etc/b.conf")
    # Volume files update; a subPath mount keeps what it started with.
    assert r.stdout == b"changed\nnew\n2"
    r = sh(sim, "p", "echo x > /cm/a")
    assert r.status == 1 and b"Read-only file system" in r.stderr


def test_downward_api_volume_and_env(sim, core):
    core.create_namespaced_pod("default", {
        "metadata": {"name": "d", "labels": {"app": "x", "tier": "web"}},
        "spec": {"containers": [{
            "name": "main", "image": "alpine",
            "resources": {"limits": {"memory": "64Mi"}},
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "MEM", "valueFrom": {"resourceFieldRef": {
                        "resource": "limits.memory", "divisor": "1Mi"}}},
                    {"name": "GREETING", "value": "hello $(POD_NAME)"}],
            "volumeMounts": [{"name": "info", "mountPath": "/info"}]}],
            "volumes": [{"name": "info", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}})
    sim.advance(5)
    ip = core.read_namespaced_pod("d", "default").status.pod_ip
    r = sh(sim, "d", 'echo "$POD_NAME $POD_IP $MEM $GREETING"; cat /info/labels; echo; '
                     'cat /info/ns')
    assert r.stdout.decode() == f'd {ip} 64 hello d\napp="x"\ntier="web"\ndefault'


def test_env_from_secrets_configmaps_and_service_links(sim, core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"},
                                                  "data": {"LEVEL": "3"}})
    core.create_namespaced_secret("default", {"metadata": {"name": "sec"},
                                              "stringData": {"PASSWORD": "pw"}})
    core.create_namespaced_service("default", {"metadata": {"name": "my-db"}, "spec": {
        "ports": [{"name": "pg", "port": 5432}], "selector": {"app": "db"}}})
    core.create_namespaced_pod("default", {"metadata": {"name": "e"}, "spec": {"containers": [{
        "name": "main", "image": "alpine",
        "envFrom": [{"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "sec"},
                                                        "prefix": "S_"}],
        "env": [{"name": "ONE", "valueFrom": {"secretKeyRef": {"name": "sec",
                                                              "key": "PASSWORD"}}}]}]}})
    sim.advance(5)
    env = dict(line.split("=", 1) for line in
               sim.exec("default", "e", ["env"]).stdout.decode().splitlines())
    svc = core.read_namespaced_service("my-db", "default")
    assert env["LEVEL"] == "3" and env["S_PASSWORD"] == "pw" and env["ONE"] == "pw"
    assert env["MY_DB_SERVICE_HOST"] == svc.spec.cluster_ip
    assert env["MY_DB_SERVICE_PORT_PG"] == "5432"
    assert env["MY_DB_PORT"] == f"tcp://{svc.spec.cluster_ip}:5432"
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert env["HOSTNAME"] == "e" and env["HOME"] == "/root"
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_claim_data_outlives_pods_and_is_shared(sim, core):
    claim(core, "data")
    sim.advance(1)
    mounts = [{"name": "d", "mountPath": "/data"}]
    volumes = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
    pod_with(core, "one", volumes, mounts)
    pod_with(core, "two", volumes, [{"name": "d", "mountPath": "/mnt", "readOnly": True}])
    sim.advance(5)
    sh(sim, "one", "mkdir -p /data/dir && echo hello > /data/dir/file")
    assert sh(sim, "two", "cat /mnt/dir/file").stdout == b"hello\n"
    r = sh(sim, "two", "rm /mnt/dir/file")
    assert r.status == 1 and b"Read-only file system" in r.stderr
    for name in ("one", "two"):
        core.delete_namespaced_pod(name, "default", grace_period_seconds=0)
    pod_with(core, "three", volumes, mounts)
    sim.advance(5)
    assert sh(sim, "three", "cat /data/dir/file").stdout == b"hello\n"


def test_claim_capacity_expansion_and_deletion(sim, core):
    claim(core, "small", size="64Ki")
    sim.advance(1)
    pod_with(core, "p", [{"name": "d", "persistentVolumeClaim": {"claimName": "small"}}],
             [{"name": "d", "mountPath": "/d"}])
    sim.advance(5)
    r = sh(sim, "p", "head -c 100000 /dev/zero > /d/f; echo $?; stat -c %s /d/f; "
                     "df -B1 /d | tail -1")
    lines = r.stdout.decode().splitlines()
    assert lines[:2] == ["1", str(64 * 1024)]
    assert lines[2].split()[1:5] == [str(64 * 1024), str(64 * 1024), "0", "100%"]
    assert r.stderr == b"head: error writing 'standard output': No space left on device\n"
    # cp and tar hit the same wall.
    r = sh(sim, "p", "rm /d/f; head -c 70000 /dev/zero > /tmp/z; cp /tmp/z /d/z")
    assert r.status == 1 and b"cp: error writing '/d/z': No space left on device" in r.stderr
    core.patch_namespaced_persistent_volume_claim(
        "small", "default", {"spec": {"resources": {"requests": {"storage": "1Mi"}}}})
    sim.advance(2)
    pvc = core.read_namespaced_persistent_volume_claim("small", "default")
    assert pvc.status.capacity == {"storage": "1Mi"}
    assert sh(sim, "p", "cp /tmp/z /d/z && stat -c %s /d/z").stdout == b"70000\n"
    events = core.list_namespaced_event("default", field_selector="reason="
                                                                  "FileSystemResizeSuccessful")
    assert len(events.items) == 1
    with pytest.raises(ApiException) as shrink:
        core.patch_namespaced_persistent_volume_claim(
            "small", "default", {"spec": {"resources": {"requests": {"storage": "64Ki"}}}})
    assert shrink.value.status == 422
    # Deleting the claim waits for the pod (pvc-protection), then its data is gone.
    core.delete_namespaced_persistent_volume_claim("small", "default")
    core.delete_namespaced_pod("p", "default", grace_period_seconds=0)
    sim.advance(1)
    claim(core, "small", size="1Mi")
    sim.advance(1)
    pod_with(core, "q", [{"name": "d", "persistentVolumeClaim": {"claimName": "small"}}],
             [{"name": "d", "mountPath": "/d"}])
    sim.advance(5)
    assert sh(sim, "q", "ls /d | wc -l").stdout == b"0\n"
    assert sim.call(lambda c: c.fs.budget.used) < 10_000


def test_read_write_once_pod_admits_a_single_pod(sim, core):
    claim(core, "solo", modes=("ReadWriteOncePod",))
    sim.advance(1)
    volumes = [{"name": "d", "persistentVolumeClaim": {"claimName": "solo"}}]
    mounts = [{"name": "d", "mountPath": "/d"}]
    pod_with(core, "first", volumes, mounts)
    sim.advance(5)
    pod_with(core, "second", volumes, mounts)
    sim.advance(5)
    second = core.read_namespaced_pod("second", "default")
    assert second.status.phase == "Pending"
    assert "ReadWriteOncePod access mode" in second.status.conditions[0].message
    core.delete_namespaced_pod("first", "default", grace_period_seconds=0)
    sim.advance(5)
    assert core.read_namespaced_pod("second", "default").status.phase == "Running"


def test_claim_cloned_from_another_claim(sim, core):
    claim(core, "origin")
    sim.advance(1)
    pod_with(core, "w", [{"name": "d", "persistentVolumeClaim": {"claimName": "origin"}}],
             [{"name": "d", "mountPath": "/d"}])
    sim.advance(5)
    sh(sim, "w", "echo original > /d/f")
    claim(core, "copy", dataSource={"kind": "PersistentVolumeClaim", "name": "origin"})
    sim.advance(1)
    pod_with(core, "r", [{"name": "d", "persistentVolumeClaim": {"claimName": "copy"}}],
             [{"name": "d", "mountPath": "/d"}])
    sim.advance(5)
    sh(sim, "r", "echo changed > /d/f")
    assert sh(sim, "w", "cat /d/f").stdout == b"original\n"
    assert sh(sim, "r", "cat /d/f").stdout == b"changed\n"


def test_nfs_volume_is_a_directory_of_the_server_pods_claim(sim, core):
    """The volumes design: one NFS server pod per tenant on a PVC; user pods mount
    ``server:/exports/<volume>`` through the server's Service."""
    claim(core, "tenant", size="1Mi")
    sim.advance(1)
    svc = core.create_namespaced_service("default", {"metadata": {"name": "nfs"}, "spec": {
        "selector": {"app": "nfs"}, "ports": [{"name": "nfs", "port": 2049}]}})
    nfs = [{"name": "v", "nfs": {"server": svc.spec.cluster_ip, "path": "/exports/vol1"}}]
    # A user pod created before its server waits in ContainerCreating (FailedMount).
    pod_with(core, "user", nfs, [{"name": "v", "mountPath": "/mnt/vol"}])
    sim.advance(3)
    assert core.read_namespaced_pod("user", "default").status.phase == "Pending"
    failed = [e.message for e in core.list_namespaced_event("default").items
              if e.reason == "FailedMount"]
    assert failed and failed[0].startswith('MountVolume.SetUp failed for volume "v" : mount '
                                           'failed: exit status 32')
    assert "mount.nfs: Connection timed out" in failed[0]
    core.create_namespaced_pod("default", {
        "metadata": {"name": "server", "labels": {"app": "nfs"}},
        "spec": {"containers": [{"name": "nfsd", "image": "itsthenetwork/nfs-server-alpine:12",
                                 "ports": [{"containerPort": 2049}],
                                 "volumeMounts": [{"name": "d", "mountPath": "/exports"}]}],
                 "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "tenant"}}]}})
    sim.advance(5)
    sh(sim, "server", "mkdir /exports/vol1 && echo seeded > /exports/vol1/readme")
    sim.advance(60)  # the kubelet retries the mount with back-off
    assert core.read_namespaced_pod("user", "default").status.phase == "Running"
    r = sh(sim, "user", "cat /mnt/vol/readme && echo written > /mnt/vol/new && "
                        "df /mnt/vol | tail -1 | cut -d' ' -f1")
    assert r.stdout == f"seeded\n{svc.spec.cluster_ip}:/exports/vol1\n".encode(), r.stderr
    listing = sh(sim, "server", "find /exports/vol1 -type f -printf '%P %s\\n' | sort; "
                                "du -sb /exports/vol1").stdout.decode().splitlines()
    assert listing == ["new 8", "readme 7", f"{4096 + 15}\t/exports/vol1"]
    # Writes through NFS count against the server's claim.
    r = sh(sim, "user", "head -c 2000000 /dev/zero > /mnt/vol/big")
    assert r.status == 1 and b"No space left on device" in r.stderr
    # Snapshots as the volumes design takes them: cp -a / tar inside the server pod.
    sh(sim, "server", "rm /exports/vol1/big && cp -a /exports/vol1 /exports/snap1")
    sh(sim, "user", "echo after > /mnt/vol/readme")
    assert sh(sim, "server", "cat /exports/snap1/readme").stdout == b"seeded\n"
    archive = sh(sim, "server", "tar -C /exports/snap1 -cf - .").stdout
    r = sh(sim, "server", "mkdir /exports/restored && tar -C /exports/restored -xf - && "
                          "cat /exports/restored/readme", stdin=archive)
    assert r.stdout == b"seeded\n"
    # Removing the exported directory on the server leaves the client with a stale handle.
    sh(sim, "server", "rm -rf /exports/vol1")
    r = sh(sim, "user", "ls /mnt/vol")
    assert r.status == 2 and b"Stale file handle" in r.stderr


def test_nfs_path_must_exist_on_the_server(sim, core):
    core.create_namespaced_pod("default", {"metadata": {"name": "srv", "labels": {"app": "s"}},
                                           "spec": {"containers": [{"name": "c",
                                                                    "image": "alpine"}]}})
    core.create_namespaced_service("default", {"metadata": {"name": "srv"}, "spec": {
        "selector": {"app": "s"}, "ports": [{"port": 2049}]}})
    sim.advance(5)
    pod_with(core, "u", [{"name": "v", "nfs": {"server": "srv.default.svc.cluster.local",
                                               "path": "/nope"}}],
             [{"name": "v", "mountPath": "/v"}])
    sim.advance(3)
    failed = [e.message for e in core.list_namespaced_event("default").items
              if e.reason == "FailedMount"]
    assert failed and failed[0].endswith("mount.nfs: access denied by server while mounting "
                                         "srv.default.svc.cluster.local:/nope")


def test_filesystem_budget_bounds_all_writes(tmp_path):
    with kubesim.start_in_thread(fs_budget="1Mi") as small:
        from kubernetes import client, config
        api = config.new_client_from_config(
            config_file=str(small.write_kubeconfig(tmp_path / "kc")))
        core = client.CoreV1Api(api)
        core.create_namespaced_pod("default", pod_manifest("p", image="alpine"))
        small.advance(5)
        r = small.exec("default", "p", ["sh", "-c", "head -c 2000000 /dev/zero > /tmp/f"])
        assert r.status == 1 and b"No space left on device" in r.stderr
        api.close()


def test_idle_pods_have_no_filesystems(sim, core):
    for i in range(20):
        core.create_namespaced_pod("default", pod_manifest(f"idle-{i}", image="kubesim/web:1"))
    sim.advance(5)
    assert sim.call(lambda c: len(c.fs.pods)) == 0
    sim.exec("default", "idle-0", ["true"])
    assert sim.call(lambda c: len(c.fs.pods)) == 1


def test_web_image_leaves_its_files_whatever_its_scenario(sim, core):
    sim.set_scenario("crashloop")  # a default rule still applies to kubesim/web pods
    core.create_namespaced_pod("default", pod_manifest("w", image="kubesim/web:1"))
    sim.advance(2.5)
    r = sim.exec("default", "w", ["sh", "-c", "cat /run/web.pid /var/log/web.log"])
    assert r.stdout == b"1\nkubesim/web: listening on 0.0.0.0:5000\n"
    sim.advance(10)
    assert core.read_namespaced_pod("w", "default").status.container_statuses[0] \
        .restart_count >= 1


def test_a_jupyter_image_gives_its_user_a_home_it_owns(sim, core):
    pod_with(core, "nb", [], [], image="quay.io/jupyter/minimal-notebook:latest",
             securityContext={"runAsUser": 1000, "runAsGroup": 100})
    pod_with(core, "plain", [], [], securityContext={"runAsUser": 1000})
    sim.advance(5)
    assert sh(sim, "nb", "touch /home/jovyan/work/a && stat -c '%u:%g' /home/jovyan").stdout == b"1000:100\n"
    denied = sh(sim, "plain", "mkdir /home/jovyan")
    assert denied.status != 0 and b"Permission denied" in denied.stderr
