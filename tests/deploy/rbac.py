"""What the deployment's Roles grant, and what kubesim measured a client use, in one shape:
``(verb, apiGroup, "resource[/subresource]")``."""
from pathlib import Path

from kubesim.rbac.files import documents, rbac_objects

BASE = Path(__file__).resolve().parents[2] / "deploy" / "base"


def grants_of(rules: list[dict]) -> set[tuple[str, str, str]]:
    """Every (verb, group, resource) the rules allow. Our Roles name everything explicitly."""
    granted = set()
    for rule in rules:
        assert not rule.get("resourceNames") and not rule.get("nonResourceURLs"), rule
        for verb in rule["verbs"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    assert "*" not in (verb, group, resource), f"wildcards are not least privilege: {rule}"
                    granted.add((verb, group, resource))
    return granted


def role_grants(objects: list[dict], namespace: str, account: str, account_namespace: str) -> set:
    """What the RoleBindings in ``namespace`` give ServiceAccount ``account_namespace/account``."""
    roles = {r["metadata"]["name"]: r for r in objects
             if r["kind"] == "Role" and r["metadata"]["namespace"] == namespace}
    granted = set()
    for binding in objects:
        if binding["kind"] != "RoleBinding" or binding["metadata"]["namespace"] != namespace:
            continue
        if any(s["kind"] == "ServiceAccount" and s["name"] == account
               and s.get("namespace", namespace) == account_namespace for s in binding["subjects"]):
            granted |= grants_of(roles[binding["roleRef"]["name"]]["rules"])
    return granted


def used_by(usage: list[dict]) -> set[tuple[str, str, str]]:
    """(verb, group, resource[/subresource]) of kubesim usage rows."""
    return {(u["verb"], u["apiGroup"], f"{u['resource']}/{u['subresource']}" if u["subresource"] else u["resource"])
            for u in usage if u["resource"]}


def base_rbac_for_tests(namespace: str, account_namespace: str, account: str) -> list[dict]:
    """deploy/base's Roles, unchanged but placed in ``namespace``, all bound to one ServiceAccount:
    for tests that run the worker's and the watcher's code in one process."""
    objects = rbac_objects(documents((BASE / "rbac.yaml").read_text()))
    roles = [{**r, "metadata": {**r["metadata"], "namespace": namespace}} for r in objects if r["kind"] == "Role"]
    bindings = [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                 "metadata": {"name": f"tests-{r['metadata']['name']}", "namespace": namespace},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": r["metadata"]["name"]},
                 "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": account_namespace}]}
                for r in roles]
    account_object = {"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": account, "namespace": account_namespace}}
    return [account_object, *roles, *bindings]
