"""The test-only control API under ``/_kubesim/`` (JSON in, JSON out).

=======  ==============================  ===============================================
Method   Path                            Body / effect
=======  ==============================  ===============================================
GET      /_kubesim/health                ``{"ok": true}``
GET      /_kubesim/clock                 current virtual time, mode, speed
POST     /_kubesim/clock/advance         ``{"seconds": 30}`` - fire due timers in order
POST     /_kubesim/settle                ``{"max_seconds": 300}`` - advance until idle
POST     /_kubesim/reset                 fresh cluster (objects, faults, journal, ...)
GET      /_kubesim/scenarios             known scenarios and active rules
POST     /_kubesim/scenarios             ``{"scenario": "crashloop", "image": ...,
                                         "namespace": ..., "pod": ...}``
DELETE   /_kubesim/scenarios             drop every rule
GET      /_kubesim/faults                active fault rules
POST     /_kubesim/faults                a :class:`~kubesim.faults.Fault` as JSON
DELETE   /_kubesim/faults[/{id}]         clear all / one
GET      /_kubesim/journal?since=N       request journal entries with ``seq > N``
DELETE   /_kubesim/journal               clear the journal
PUT      /_kubesim/logs/{ns}/{pod}       ``{"text": "...", "container": null,
                                         "previous": false}``
GET      /_kubesim/reachable             ``?from=ns/pod&to=ns/pod&port=N&protocol=TCP``:
                                         NetworkPolicy verdict (``from`` may be an IP)
=======  ==============================  ===============================================
"""

from __future__ import annotations

from aiohttp import web

from .. import control
from .common import json_response


def _bad(message: str) -> web.Response:
    return json_response({"error": message}, status=400)


async def _json(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("body must be JSON") from None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def routes(cluster) -> list[web.RouteDef]:
    """aiohttp routes bound to ``cluster``."""

    def wrap(fn):
        async def handler(request: web.Request) -> web.Response:
            try:
                body = await _json(request) if request.method in ("POST", "PUT") else {}
                result = fn(request, body)
            except (ValueError, TypeError, KeyError) as exc:
                return _bad(str(exc))
            return json_response(result)
        return handler

    c = cluster
    return [
        web.get("/_kubesim/health", wrap(lambda r, b: {"ok": True})),
        web.get("/_kubesim/clock", wrap(lambda r, b: control.clock_info(c))),
        web.post("/_kubesim/clock/advance",
                 wrap(lambda r, b: control.advance(c, float(b.get("seconds", 0))))),
        web.post("/_kubesim/settle",
                 wrap(lambda r, b: control.settle(c, float(b.get("max_seconds", 300))))),
        web.post("/_kubesim/reset", wrap(lambda r, b: control.reset(c))),
        web.post("/_kubesim/bulk", wrap(lambda r, b: control.bulk_create(c, **b))),
        web.get("/_kubesim/scenarios", wrap(lambda r, b: control.scenarios(c))),
        web.post("/_kubesim/scenarios", wrap(lambda r, b: control.set_scenario(c, **b))),
        web.delete("/_kubesim/scenarios", wrap(lambda r, b: control.clear_scenarios(c))),
        web.get("/_kubesim/faults", wrap(lambda r, b: control.list_faults(c))),
        web.post("/_kubesim/faults", wrap(lambda r, b: control.inject_fault(c, **b))),
        web.delete("/_kubesim/faults", wrap(lambda r, b: control.clear_faults(c))),
        web.delete("/_kubesim/faults/{id}",
                   wrap(lambda r, b: control.remove_fault(c, int(r.match_info["id"])))),
        web.get("/_kubesim/journal",
                wrap(lambda r, b: control.journal(c, int(r.query.get("since", 0))))),
        web.delete("/_kubesim/journal", wrap(lambda r, b: control.clear_journal(c))),
        web.get("/_kubesim/reachable",
                wrap(lambda r, b: control.reachable(
                    c, r.query.get("from", ""), r.query.get("to", ""),
                    int(r.query["port"]) if r.query.get("port") else None,
                    r.query.get("protocol", "TCP")))),
        web.put("/_kubesim/logs/{namespace}/{pod}",
                wrap(lambda r, b: control.set_logs(c, r.match_info["namespace"],
                                                   r.match_info["pod"], **b))),
    ]
