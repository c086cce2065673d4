"""The built-in catalog: templates every tenant can run, and the images they need.

Credentials come from the pod's own generated credentials through placeholders, resolved only
when the worker builds the Kubernetes objects: ``<<TAPIS_user_username>>`` (the pod id),
``<<TAPIS_user_password>>``, ``<<TAPIS_admin_username>>`` (``podsservice``) and
``<<TAPIS_admin_password>>``. Passwords are 30 random letters and digits.

Changing a definition here and re-running ``manage.py install_catalog`` publishes a new
``latest`` version; pods keep the version they were created with until restarted with
``grab_latest_template_tag=true``.
"""
from dataclasses import dataclass, field

CATALOG_USER = "catalog"


@dataclass(frozen=True)
class CatalogImage:
    image: str
    description: str
    tenants: tuple = ("**",)


@dataclass(frozen=True)
class CatalogTemplate:
    template_id: str
    description: str
    metatags: tuple
    pod_definition: dict
    commit_message: str
    tag_description: str = ""
    tag: str = "latest"
    images: tuple = field(default_factory=tuple)


# Neo4j's image only creates the built-in `neo4j` user (from NEO4J_AUTH). The start script runs
# the normal entrypoint in the background, waits for Bolt, then creates the pod's admin and user
# accounts with cypher-shell, and forwards SIGTERM so Kubernetes can stop Neo4j cleanly.
# (Variables for the script must not start with NEO4J_: the entrypoint turns those into
# configuration settings, and unknown settings stop Neo4j.)
NEO4J_START = r"""set -eu
for v in PODS_ADMIN_USERNAME PODS_ADMIN_PASSWORD PODS_USER_USERNAME PODS_USER_PASSWORD; do
  eval "val=\${$v}"
  case "$val" in ''|*[!A-Za-z0-9_]*) echo "pods: $v must be letters, digits or _" >&2; exit 64;; esac
done
/startup/docker-entrypoint.sh neo4j &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"' TERM INT
shell() { cypher-shell -a bolt://localhost:7687 -u neo4j -p "$PODS_ADMIN_PASSWORD" -d system "$1"; }
tries=0
until shell 'SHOW DEFAULT DATABASE' >/dev/null 2>&1; do
  tries=$((tries + 1)); [ "$tries" -lt 150 ] || { echo "pods: Neo4j did not start" >&2; exit 1; }
  kill -0 "$pid" 2>/dev/null || wait "$pid"
  sleep 2
done
for who in ADMIN USER; do
  eval "u=\$PODS_${who}_USERNAME p=\$PODS_${who}_PASSWORD"
  shell "CREATE USER \`$u\` IF NOT EXISTS SET PLAINTEXT PASSWORD '$p' CHANGE NOT REQUIRED"
done
echo "pods: Neo4j is ready; accounts $PODS_ADMIN_USERNAME and $PODS_USER_USERNAME exist."
wait "$pid"
"""

NEO4J = CatalogTemplate(
    template_id="neo4j",
    description=(
        "Neo4j 5 graph database (Community Edition). The pod's URL is Bolt: connect a driver (or "
        "Neo4j Browser, at the 'browser' URL) to neo4j+s://<pod URL>:443. Log in with the username and password "
        "from get_pod_credentials; an admin account (podsservice) is also created. Data lives inside "
        "the pod: it is lost when the pod stops unless you mount a volume."
    ),
    metatags=("database", "graph", "neo4j", "cypher"),
    commit_message="Neo4j 5 Community: Bolt over TCP 7687 at the pod's URL, Neo4j Browser over HTTP 7474.",
    tag_description=(
        "Ports: the default entry is Bolt (TCP 7687, TLS at the proxy) at the pod's URL; 'browser' "
        "(HTTP 7474) serves Neo4j Browser. "
        "Accounts: the pod's user (username = pod id) and admin (podsservice), passwords from the "
        "pod's credentials. Memory: 1 GB heap, 512 MB page cache."
    ),
    pod_definition={
        "image": "neo4j:5-community",
        "command": ["/bin/bash", "-c", NEO4J_START],
        "environment_variables": {
            "NEO4J_AUTH": "neo4j/<<TAPIS_admin_password>>",
            "NEO4J_server_memory_heap_initial__size": "512m",
            "NEO4J_server_memory_heap_max__size": "1G",
            "NEO4J_server_memory_pagecache_size": "512m",
            "PODS_ADMIN_USERNAME": "<<TAPIS_admin_username>>",
            "PODS_ADMIN_PASSWORD": "<<TAPIS_admin_password>>",
            "PODS_USER_USERNAME": "<<TAPIS_user_username>>",
            "PODS_USER_PASSWORD": "<<TAPIS_user_password>>",
        },
        # As upstream's neo4j template: the pod's own URL (the default entry) is Bolt; the browser
        # is the second entry ({pod_id}-browser.pods.<domain>).
        "networking": {
            "default": {"protocol": "tcp", "port": 7687},
            "browser": {"protocol": "http", "port": 7474},
        },
        "resources": {"cpu_request": 500, "cpu_limit": 2000, "mem_request": 1536, "mem_limit": 3072},
        # The entrypoint starts as root, takes ownership of the data directories and drops to the
        # neo4j user: what it needs back of the capabilities every pod drops.
        "security": {"capabilities": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]},
    },
    images=(CatalogImage("neo4j", "Neo4j graph database (built-in catalog template 'neo4j')."),),
)

POSTGRES = CatalogTemplate(
    template_id="postgres",
    description=(
        "PostgreSQL 16 relational database. Connect with psql or any driver to the pod's URL on port "
        "443 with sslmode=require, e.g. psql \"host=<url> port=443 sslmode=require user=<pod id> "
        "dbname=<pod id>\"; the username is the pod id and the password comes from "
        "get_pod_credentials. Data lives inside the pod: it is lost when the pod stops unless you "
        "mount a volume."
    ),
    metatags=("database", "sql", "postgres", "postgresql"),
    commit_message="PostgreSQL 16 over TLS (protocol postgres, port 5432), user and database from the "
                   "credentials.",
    tag_description=(
        "Database and user named after the pod, password from the pod's credentials. TLS with the "
        "image's self-signed certificate (the proxy passes TLS through to PostgreSQL)."
    ),
    pod_definition={
        "image": "postgres:16",
        # The entrypoint runs `postgres` with these flags (they start with '-').
        "arguments": ["-c", "ssl=on",
                      "-c", "ssl_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem",
                      "-c", "ssl_key_file=/etc/ssl/private/ssl-cert-snakeoil.key"],
        "environment_variables": {
            "POSTGRES_USER": "<<TAPIS_user_username>>",
            "POSTGRES_PASSWORD": "<<TAPIS_user_password>>",
            "POSTGRES_DB": "<<TAPIS_user_username>>",
            "PGDATA": "/var/lib/postgresql/data/pgdata",
        },
        "networking": {"default": {"protocol": "postgres", "port": 5432}},
        "resources": {"cpu_request": 250, "cpu_limit": 2000, "mem_request": 512, "mem_limit": 2048},
        # As Neo4j's: the entrypoint prepares PGDATA as root, then runs postgres as its own user.
        "security": {"capabilities": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]},
    },
    images=(CatalogImage("postgres", "PostgreSQL (built-in catalog template 'postgres')."),),
)

JUPYTERLAB = CatalogTemplate(
    template_id="jupyterlab",
    description=(
        "JupyterLab with Python 3 (the Jupyter project's minimal-notebook image). Open the pod's URL "
        "and enter the token: the user_password from get_pod_credentials (or open "
        "https://<url>/lab?token=<password>). Install packages with pip or mamba in a terminal. Files "
        "live inside the pod: they are lost when the pod stops unless you mount a volume."
    ),
    metatags=("notebook", "jupyter", "jupyterlab", "python"),
    commit_message="JupyterLab on HTTP 8888, token from the credentials.",
    tag_description="Token = the pod's user password. Work directory /home/jovyan/work.",
    pod_definition={
        "image": "quay.io/jupyter/minimal-notebook:latest",
        "environment_variables": {"JUPYTER_TOKEN": "<<TAPIS_user_password>>"},
        "networking": {"default": {"protocol": "http", "port": 8888}},
        "resources": {"cpu_request": 500, "cpu_limit": 2000, "mem_request": 1024, "mem_limit": 4096},
        # The image runs as jovyan (uid 1000, group users): no root, no capabilities.
        "security": {"run_as_non_root": True, "run_as_user": 1000, "run_as_group": 100},
    },
    images=(CatalogImage("quay.io/jupyter/minimal-notebook",
                         "Jupyter minimal-notebook (built-in catalog template 'jupyterlab')."),),
)

CATALOG = (NEO4J, POSTGRES, JUPYTERLAB)
