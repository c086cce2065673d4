"""Control API for RBAC under ``/_kubesim/rbac`` (JSON in, JSON out; never faulted or journaled).

=======  ==========================  =====================================================
Method   Path                        Body / effect
=======  ==========================  =====================================================
GET      /_kubesim/rbac              ``{"enforced": bool, "objects": [{kind, namespace, name}]}``
POST     /_kubesim/rbac              ``{"objects": [...]}`` (or a list): create or replace
                                     Roles, ClusterRoles, (Cluster)RoleBindings and
                                     ServiceAccounts; other kinds are refused
DELETE   /_kubesim/rbac              forget every loaded object and issued token
POST     /_kubesim/rbac/token        ``{"namespace", "name"}`` -> ``{"token", "user"}`` for a
                                     loaded ServiceAccount
GET      /_kubesim/rbac/usage        ``?since=N&user=U``: distinct (user, verb, apiGroup,
                                     resource, subresource, namespace) of journaled requests
=======  ==========================  =====================================================
"""

from __future__ import annotations

from aiohttp import web

from ..http.common import json_response
from . import usage
from .attributes import service_account_user


def load_objects(access, objects) -> dict:
    """Apply RBAC objects given as a list or ``{"objects": [...]}``."""
    if isinstance(objects, dict):
        objects = objects.get("objects")
    if not isinstance(objects, list):
        raise ValueError('body must be a list of objects or {"objects": [...]}')
    return {"applied": access.apply(objects)}


def describe(access) -> dict:
    keys = sorted(access.policy.objects)
    return {"enforced": access.enforced,
            "objects": [{"kind": k, "namespace": ns, "name": n} for k, ns, n in keys]}


def issue_token(access, body: dict) -> dict:
    namespace, name = body.get("namespace"), body.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str) or not namespace or not name:
        raise ValueError('body must be {"namespace": "...", "name": "..."}')
    token = access.issue_token(namespace, name)
    return {"token": token, "user": service_account_user(namespace, name).name}


def routes(cluster) -> list[web.RouteDef]:
    """aiohttp routes bound to ``cluster`` (whose ``access`` is an :class:`~kubesim.rbac.Access`)."""

    def wrap(fn):
        async def handler(request: web.Request) -> web.Response:
            try:
                body = await request.json() if request.method == "POST" and request.can_read_body else {}
                return json_response(fn(request, body))
            except KeyError as exc:
                return json_response({"error": str(exc.args[0]) if exc.args else str(exc)}, status=404)
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, status=400)
        return handler

    access = cluster.access
    return [
        web.get("/_kubesim/rbac", wrap(lambda r, b: describe(access))),
        web.post("/_kubesim/rbac", wrap(lambda r, b: load_objects(access, b))),
        web.delete("/_kubesim/rbac", wrap(lambda r, b: access.clear() or describe(access))),
        web.post("/_kubesim/rbac/token",
                 wrap(lambda r, b: issue_token(access, b))),
        web.get("/_kubesim/rbac/usage",
                wrap(lambda r, b: {"usage": usage(cluster.journal.list(int(r.query.get("since", 0))),
                                                  r.query.get("user"))})),
    ]
