"""The simulated userland: sh semantics and the GNU-style tools, run inside a pod.

Commands run through ``sim.exec`` (the exec engine without the WebSocket); the
transport itself is covered by test_exec.py.
"""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from .helpers import pod_manifest, wait_for


@pytest.fixture
def box(sim, core):
    """A running pod; returns ``run(script, stdin=None) -> ExecResult`` (via ``sh -c``)."""
    core.create_namespaced_pod("default", pod_manifest("box", image="alpine:3.20"))
    sim.advance(5)

    def run(script: str, stdin: bytes | None = None, argv: list[str] | None = None):
        return sim.exec("default", "box", argv or ["sh", "-c", script], stdin=stdin)

    return run


SHELL_CASES = [
    # quoting and expansion
    ("echo 'a  b' \"c  $HOME\" d\\ e", "a  b c  /root d e\n"),
    ("x=1; y=\"$x$x\"; echo ${y} ${#y} ${z:-dflt} ${z-} \"${z:+set}\"", "11 2 dflt \n"),
    ("v=/a/b/c.tar.gz; echo ${v##*/} ${v%%.*} ${v#*/} ${v%.gz}",
     "c.tar.gz /a/b/c a/b/c.tar.gz /a/b/c.tar\n"),
    ("v=aXbXc; echo ${v/X/-} ${v//X/-}", "a-bXc a-b-c\n"),
    ("echo $((3 + 4 * 2)) $((10 / 3)) $((-7 % 3)) $((1 << 4)) $((2 > 1 && 0 || 5))",
     "11 3 -1 16 1\n"),
    ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i", "3\n"),
    ("echo $(echo inner $(echo nested)) `echo back`", "inner nested back\n"),
    ("set -- one 'two three'; for a in \"$@\"; do echo \"[$a]\"; done; echo $#",
     "[one]\n[two three]\n2\n"),
    ("f() { echo \"f:$1:$#\"; return 3; }; f a b; echo $?", "f:a:2\n3\n"),
    ("a=; [ -z \"$a\" ] && echo empty || echo full", "empty\n"),
    ("false; echo $?; true; echo $?; ! false; echo $?", "1\n0\n0\n"),
    ("false || echo or; true && echo and; false && echo no; echo end", "or\nand\nend\n"),
    ("if false; then echo a; elif true; then echo b; else echo c; fi", "b\n"),
    ("for x in 1 2 3 4; do [ $x = 2 ] && continue; [ $x = 4 ] && break; echo $x; done", "1\n3\n"),
    ("case foo.txt in *.md) echo md;; *.txt|*.text) echo text;; esac", "text\n"),
    ("x=outer; (x=inner; echo $x); echo $x", "inner\nouter\n"),
    ("{ echo a; echo b; } | wc -l", "2\n"),
    ("cd /tmp && pwd && cd - >/dev/null && pwd", "/tmp\n/\n"),
    ("export A=1; env | grep '^A='; unset A; env | grep -c '^A=' || true", "A=1\n0\n"),
    ("X=tmp sh -c 'echo $X'; echo \"${X:-unset}\"", "tmp\nunset\n"),
    ("read a b <<EOF\none two three\nEOF\necho \"$b|$a\"", "two three|one\n"),
    ("cat <<'EOF'\n$HOME `x`\nEOF", "$HOME `x`\n"),
    ("cat <<EOF\nhome=$HOME sum=$((1+1))\nEOF", "home=/root sum=2\n"),
    ("printf '%s-%03d|%x|%5.2f|%-3s|\\n' a 7 255 3.14159 b", "a-007|ff| 3.14|b  |\n"),
    ("printf '%s\\n' a b c", "a\nb\nc\n"),
    ("echo -n no-newline; echo -e 'tab\\there'", "no-newlinetab\there\n"),
    ("set -e; false; echo not-reached", ""),
    ("set -e; false || true; if false; then :; fi; echo survived", "survived\n"),
    ("set -o pipefail; false | true; echo $?", "1\n"),
    ("echo ok >/dev/null; echo $?", "0\n"),
    ("eval 'a=5; echo $a'", "5\n"),
    ("echo \"$(printf 'a\\n\\n\\n')\"end", "aend\n"),
    ("cd /etc; echo pass*; echo nomatch*; echo 'quoted*'", "passwd\nnomatch*\nquoted*\n"),
    ("mkdir -p /g && touch /g/a.txt /g/b.txt /g/.hidden /g/c.log && echo /g/*.txt && echo /g/*",
     "/g/a.txt /g/b.txt\n/g/a.txt /g/b.txt /g/c.log\n"),
    ("type cd; command -v ls; type nosuch", "cd is a shell builtin\n/bin/ls\nnosuch: not found\n"),
    ("umask; umask 077; touch /tmp/u; stat -c %a /tmp/u", "0022\n600\n"),
]


@pytest.mark.parametrize("script,expected", SHELL_CASES)
def test_shell_semantics(box, script, expected):
    result = box(script)
    assert result.stdout.decode() == expected, result.stderr


def test_shell_errors_use_ash_wording_and_statuses(box):
    r = box("nosuchcmd arg")
    assert (r.status, r.stderr) == (127, b"sh: nosuchcmd: not found\n")
    r = box("echo hi > /nonexistent/dir/file")
    assert (r.status, r.stderr) == (1, b"sh: can't create /nonexistent/dir/file: No such file "
                                       b"or directory\n")
    r = box("cat < /missing")
    assert (r.status, r.stderr) == (1, b"sh: can't open '/missing': No such file or "
                                       b"directory\n")
    r = box("cd /missing")
    assert (r.status, r.stderr) == (2, b"sh: cd: can't cd to /missing: No such file or "
                                       b"directory\n")
    r = box("if true; then echo x")
    assert r.status == 2 and b"syntax error" in r.stderr
    r = box("echo '#!/bin/sh' > /tmp/s && /tmp/s")
    assert (r.status, r.stderr) == (126, b"sh: /tmp/s: Permission denied\n")
    r = box("exit 42")
    assert r.status == 42
    r = box("set -u; echo $UNDEFINED")
    assert r.status == 1 and r.stderr == b"sh: UNDEFINED: parameter not set\n"


def test_scripts_shebangs_and_applets_on_the_filesystem(box):
    r = box("printf '#!/bin/sh\\necho \"script $1 $0\"\\nexit 5\\n' > /tmp/s.sh && "
            "chmod +x /tmp/s.sh && /tmp/s.sh arg; echo rc=$?")
    assert r.stdout == b"script arg /tmp/s.sh\nrc=5\n"
    # Applets are real files: copies run, removals are felt.
    r = box("cp /bin/echo /tmp/myecho && /tmp/myecho copied && rm /bin/tar && tar; echo $?")
    assert r.stdout == b"copied\n127\n" and r.stderr == b"sh: tar: not found\n"
    r = box("ls /bin | grep -c .; ls -l /bin/sh | cut -c1-10")
    assert int(r.stdout.split()[0]) > 60 and r.stdout.split()[1] == b"-rwxr-xr-x"


def test_stdout_and_stderr_redirections(box):
    r = box("echo out; echo err >&2; ls /missing 2>&1 | tr a-z A-Z; (echo a; echo b >&2) "
            "2>/dev/null; echo both &> /tmp/both; cat /tmp/both")
    assert r.stdout == (b"out\nLS: CANNOT ACCESS '/MISSING': NO SUCH FILE OR DIRECTORY\n"
                        b"a\nboth\n")
    assert r.stderr == b"err\n"
    r = box("echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f /dev/null - < /tmp/f")
    assert r.stdout == b"one\ntwo\none\ntwo\n"


def test_pipes_stream_and_stop_early(box):
    # yes never ends by itself: head closing the pipe stops it (SIGPIPE).
    r = box("yes hello | head -n 3; seq 1 100000 | tail -n 2; seq 5 | sort -rn | head -1")
    assert r.stdout == b"hello\nhello\nhello\n99999\n100000\n5\n"


def test_ls_formats(box):
    r = box("mkdir -p /d/sub && printf 12345 > /d/f && ln -s f /d/link && cd /d && "
            "ls && ls -1a && ls -l --time-style=x | tail -n +2 | cut -c1-10,12- && ls -d /d "
            "&& ls /nope; echo rc=$?")
    lines = r.stdout.decode().splitlines()
    assert lines[:3] == ["f", "link", "sub"]
    assert lines[3:8] == [".", "..", "f", "link", "sub"]
    assert lines[8].startswith("-rw-r--r--") and lines[8].endswith(" f")
    assert " 5 " in lines[8]
    assert lines[9].startswith("lrwxrwxrwx") and lines[9].endswith("link -> f")
    assert lines[10].startswith("drwxr-xr-x") and lines[10].endswith(" sub")
    assert lines[11] == "/d" and lines[12] == "rc=2"
    assert r.stderr == b"ls: cannot access '/nope': No such file or directory\n"
    r = box("ls -R /d")
    assert r.stdout == b"/d:\nf\nlink\nsub\n\n/d/sub:\n"


def test_find_du_stat_for_volume_listings(box):
    r = box("mkdir -p /v/a/b && printf abc > /v/a/x && printf 12345 > /v/a/b/y && "
            "ln -s a/x /v/l && touch -d 2024-01-02T03:04:05Z /v/a/x && "
            "find /v -mindepth 1 -printf '%y %s %P %m %f %d\\n' | sort && "
            "find /v/a/x -printf '%TY-%Tm-%Td %TH:%TM %T@\\n' && "
            "find /v -maxdepth 1 -type d && find /v -name '*y' -type f && "
            "find /v -type l -printf '%p -> %l\\n' && du -sb /v && du -s /v && "
            "du -b --max-depth=1 /v | sort && stat -c '%n %s %a %F %U:%G %Y' /v/a/x")
    assert r.stdout.decode().splitlines() == [
        "d 4096 a 755 a 1",
        "d 4096 a/b 755 b 2",
        "f 3 a/x 644 x 2",
        "f 5 a/b/y 644 y 3",
        "l 3 l 777 l 1",
        "2024-01-02 03:04 1704164645.0000000000",
        "/v", "/v/a",
        "/v/a/b/y",
        "/v/l -> a/x",
        f"{3 * 4096 + 3 + 5 + 3}\t/v",
        "20\t/v",   # 1 KiB units: 3 directories and 2 files of one 4 KiB block, a fast symlink
        f"{3 * 4096 + 3 + 5 + 3}\t/v",
        f"{2 * 4096 + 3 + 5}\t/v/a",
        "/v/a/x 3 644 regular file root:root 1704164645",
    ], r.stderr
    r = box("find /nope; find /v -badpredicate")
    assert r.status == 1
    assert r.stderr == (b"find: '/nope': No such file or directory\n"
                        b"find: unknown predicate `-badpredicate'\n")


def test_cp_mv_rm_semantics(box):
    r = box("mkdir -p /s/d && printf data > /s/d/f && chmod 600 /s/d/f && "
            "touch -d @1000000000 /s/d/f && cp -a /s /c && cp -a /s/. /c2 && "
            "mkdir /c3 && cp -r /s /c3/ && stat -c '%a %Y' /c/d/f /c2/d/f && "
            "stat -c %Y /c3/s/d/f | grep -vc 1000000000 && ls /c2 && "
            "cp /s /x; echo rc=$? && mv /c2/d /c2/moved && ls /c2 && rm -rf /c2 && "
            "ls /c2; rm /c; echo rc=$?")
    assert r.stdout.decode().splitlines() == [
        "600 1000000000", "600 1000000000", "1", "d", "rc=1", "moved", "rc=1"]
    assert r.stderr.decode().splitlines() == [
        "cp: -r not specified; omitting directory '/s'",
        "ls: cannot access '/c2': No such file or directory",
        "rm: cannot remove '/c': Is a directory"]


def test_mv_across_mounts_copies(sim, core):
    core.create_namespaced_pod("default", {
        "metadata": {"name": "m"},
        "spec": {"containers": [{"name": "main", "image": "alpine",
                                 "volumeMounts": [{"name": "e", "mountPath": "/e"}]}],
                 "volumes": [{"name": "e", "emptyDir": {}}]}})
    sim.advance(5)
    r = sim.exec("default", "m", ["sh", "-c", "mkdir -p /t/d && echo hi > /t/d/f && "
                                  "mv /t/d /e/d && cat /e/d/f && ls /t && mv /e /x"])
    assert r.stdout == b"hi\n"
    assert r.status == 1 and b"Device or resource busy" in r.stderr


def test_text_tools(box):
    r = box("printf 'b 2\\na 10\\nc 1\\na 10\\n' > /t && sort /t | uniq -c && "
            "sort -k2 -n /t | head -1 && cut -d' ' -f2 /t | tr '\\n' , && echo && "
            "grep -n 'a' /t && grep -c a /t && grep -v -e a -e b /t && wc -l /t && "
            "wc < /t && sed -n '2p;s/c/C/p' /t && sed 's/a/A/g; 3d' /t | tr -d '\\n' && echo "
            "&& head -c 3 /t && echo && tail -n 1 /t && tail -c +3 /t | head -1")
    assert r.stdout.decode().splitlines() == [
        "      2 a 10", "      1 b 2", "      1 c 1",
        "c 1",
        "2,10,1,10,",
        "2:a 10", "4:a 10", "2",
        "c 1",
        "4 /t",
        "      4       8      18",
        "a 10", "C 1",
        "b 2A 10A 10",
        "b 2",
        "a 10",
        "2",
    ], r.stderr


def test_checksums_base64_and_dd(box):
    data = bytes(range(256)) * 100
    r = box("cat > /bin.dat && sha256sum /bin.dat && md5sum < /bin.dat && "
            "base64 -w0 /bin.dat | base64 -d | cmp - /bin.dat && echo same && "
            "dd if=/bin.dat of=/copy bs=1000 count=3 status=none && wc -c < /copy && "
            "dd if=/dev/zero bs=512 count=2 2>&1 >/dev/null | head -2", stdin=data)
    lines = r.stdout.decode().splitlines()
    assert lines[0] == f"{hashlib.sha256(data).hexdigest()}  /bin.dat"
    assert lines[1] == f"{hashlib.md5(data).hexdigest()}  -"
    assert lines[2:] == ["same", "3000", "2+0 records in", "2+0 records out"]


def test_test_builtin_and_applet(box):
    r = box("[ -d / ] && [ -f /etc/passwd ] && [ ! -e /nope ] && [ 3 -lt 10 ] && "
            "[ abc = abc -a -n x ] && test -x /bin/ls && [ -L /var/run ] && echo yes; "
            "[ 1 -eq ]; echo $?; [ a = b; echo $?")
    assert r.stdout == b"yes\n2\n2\n"
    assert b"missing ]" in r.stderr


def test_tar_round_trips_real_archives(box):
    r = box("mkdir -p /src/sub && printf hello > /src/a && printf '%05000d' 0 > /src/sub/b && "
            "ln -s a /src/link && chmod 750 /src/sub && cd / && tar czf /t.tgz src && "
            "mkdir /out && tar xzf /t.tgz -C /out && diff_ok=1 && "
            "cmp /src/sub/b /out/src/sub/b && readlink /out/src/link && "
            "stat -c %a /out/src/sub && tar tzf /t.tgz && tar cf - -C /src . | tar tvf - | "
            "head -1 | cut -c1-10")
    assert r.stdout.decode().splitlines() == [
        "a", "750", "src/", "src/a", "src/link", "src/sub/", "src/sub/b", "drwxr-xr-x"], r.stderr
    # A real tar stream, written by the standard library, extracts inside the pod.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as archive:
        long_name = "deep/" + "x" * 120 + "/file.txt"
        for name, content in (("top.txt", b"top"), (long_name, b"long")):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 1_600_000_000, 0o640
            archive.addfile(info, io.BytesIO(content))
    r = box("mkdir /x && tar -xmf - -C /x && cat /x/top.txt /x/deep/*/file.txt && "
            "stat -c %a /x/top.txt && find /x -type f | wc -l", stdin=buf.getvalue())
    assert r.stdout == b"toplong640\n2\n", r.stderr
    # ... and the pod's archives are readable by the standard library.
    r = box("tar cf - -C / etc/hostname etc/passwd")
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as archive:
        assert archive.getnames() == ["etc/hostname", "etc/passwd"]
        assert archive.extractfile("etc/hostname").read() == b"box\n"
    assert len(r.stdout) % 10240 == 0


def test_tar_errors(box):
    r = box("tar cf - /missing > /dev/null")
    assert r.status == 2
    assert r.stderr == (b"tar: Removing leading `/' from member names\n"
                        b"tar: /missing: Cannot stat: No such file or directory\n"
                        b"tar: Exiting with failure status due to previous errors\n")
    r = box("echo garbage | tar xf -")
    assert r.status == 2 and b"This does not look like a tar archive" in r.stderr
    r = box("tar xf - -C /nowhere < /dev/null")
    assert r.status == 2 and b"/nowhere: Cannot open: No such file or directory" in r.stderr


def test_environment_identity_and_clock(sim, core, box):
    r = box("hostname; id; whoami; uname -s; cat /etc/hostname; pwd; echo $HOME; "
            "printenv HOSTNAME; date -u +%s")
    lines = r.stdout.decode().splitlines()
    assert lines[:8] == ["box", "uid=0(root) gid=0(root) groups=0(root)", "root", "Linux",
                         "box", "/", "/root", "box"]
    assert int(lines[8]) == int(sim.now().timestamp())
    assert b"KUBERNETES_SERVICE_HOST=10.96.0.1" in box("env").stdout


def test_sleep_and_background_jobs(box):
    r = box("sleep 0.05 & echo started; wait; echo done; sleep 0.01s")
    assert r.stdout == b"started\ndone\n"


def test_non_root_permissions(sim, core):
    core.create_namespaced_pod("default", {
        "metadata": {"name": "user"},
        "spec": {"securityContext": {"runAsUser": 1000, "runAsGroup": 1000},
                 "containers": [{"name": "main", "image": "alpine"}]}})
    sim.advance(5)
    r = sim.exec("default", "user", ["sh", "-c", "id -u; touch /tmp/mine && ls -n /tmp/mine "
                                     "| cut -d' ' -f3,4; touch /etc/x; echo rc=$?"])
    assert r.stdout.decode().splitlines() == ["1000", "1000 1000", "rc=1"]
    assert r.stderr == b"touch: cannot touch '/etc/x': Permission denied\n"


def test_background_jobs_with_redirected_output_outlive_their_exec(sim, core, box):
    # Holding the exec's stdout keeps the session open, as on a node ...
    assert box("sleep 0.05 & echo waits").stdout == b"waits\n"
    # ... a daemonised job detaches and keeps running in the container ...
    r = box("(sleep 0.2; echo late > /tmp/late) >/dev/null 2>&1 & echo started")
    assert r.stdout == b"started\n"
    assert box("cat /tmp/late").status == 1
    wait_for(lambda: box("cat /tmp/late").stdout == b"late\n")
    # ... until its container stops.
    box("sleep 600 > /dev/null 2>&1 &")
    assert sim.call(lambda c: sum(len(t) for t in c.execs._tasks.values())) == 1
    core.delete_namespaced_pod("box", "default", grace_period_seconds=0)
    assert sim.call(lambda c: sum(len(t) for t in c.execs._tasks.values())) == 0
