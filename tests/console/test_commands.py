"""Operator commands: every argument explained, errors as sentences, refusals the API would make."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
OURS = ("create_tenant", "dev_token", "bootstrap_dev", "ensure_database", "install_catalog", "watch_cluster")


@pytest.mark.parametrize("name", OURS)
def test_every_argument_has_help(name):
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    undocumented = [a.dest for a in parser._actions if not a.help and a.dest != "help"]
    assert command.help and not undocumented, f"{name}: no help for {undocumented}"


@pytest.mark.django_db
@pytest.mark.parametrize("domain", ["https://x.org", "x.org:8000", "a..b", "-bad.org", "x.org/path", "white space"])
def test_create_tenant_refuses_a_domain_that_is_not_a_dns_name(domain):
    with pytest.raises(CommandError, match="^--domain: .*DNS"):
        call_command("create_tenant", "acme", f"--domain={domain}", "--generate-key")


@pytest.mark.django_db
def test_create_tenant_errors_read_as_sentences(make_tenant):
    make_tenant("dev")  # owns the domain localhost
    with pytest.raises(CommandError) as refused:
        call_command("create_tenant", "other", "--domain", "localhost", "--generate-key")
    message = str(refused.value)
    assert "__all__" not in message and message.endswith(".") and message[0].isupper()
    assert "already uses this pod domain" in message


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["*", "has space", "1starts-with-digit", "a" * 151, "tenant.x"])
def test_dev_token_refuses_usernames_the_api_refuses(make_tenant, username):
    make_tenant("dev")
    if username == "tenant.x":  # a valid username for the API: accepted
        call_command("dev_token", "--tenant", "dev", "--username", username, stdout=open(os.devnull, "w"))
        return
    with pytest.raises(CommandError, match="is not a username the API accepts"):
        call_command("dev_token", "--tenant", "dev", "--username", username)


def test_a_missing_database_is_a_one_line_hint():
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/pods_console_no_such_db",
           "DJANGO_SETTINGS_MODULE": "pods_project.settings"}
    done = subprocess.run([sys.executable, "manage.py", "dev_token", "--tenant", "dev", "--username", "alice"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "does not exist" in done.stderr and "manage.py ensure_database" in done.stderr
