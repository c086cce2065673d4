"""``GET /api/v1/namespaces/{ns}/pods/{name}/log`` (``text/plain``, optionally streamed)."""

from __future__ import annotations

from aiohttp import web

from .. import errors
from ..clock import parse_time
from ..errors import FieldError
from ..logs import LogOptions, LogSource, render, select
from .common import query_bool, query_int

TEXT = "text/plain"
# Kubelet's wording for containers that have not started (kuberuntime).
_WAITING = {"ErrImagePull": "image can't be pulled",
            "ImagePullBackOff": "trying and failing to pull image"}


def _options(request: web.Request, cluster, pod: str) -> LogOptions:
    opts = LogOptions(tail_lines=query_int(request, "tailLines"),
                      limit_bytes=query_int(request, "limitBytes"),
                      timestamps=query_bool(request, "timestamps"))
    problems = []
    if opts.tail_lines is not None and opts.tail_lines < 0:
        problems.append(FieldError("Invalid", "tailLines", opts.tail_lines,
                                   "must be greater than or equal to 0"))
    if opts.limit_bytes is not None and opts.limit_bytes < 1:
        problems.append(FieldError("Invalid", "limitBytes", opts.limit_bytes,
                                   "must be greater than 0"))
    since_seconds = query_int(request, "sinceSeconds")
    since_time = request.query.get("sinceTime")
    if since_seconds is not None and since_time:
        problems.append(FieldError("Forbidden", "",
                                   detail="at most one of `sinceTime` or `sinceSeconds` may be "
                                          "specified"))
    elif since_seconds is not None:
        if since_seconds < 1:
            problems.append(FieldError("Invalid", "sinceSeconds", since_seconds,
                                       "must be greater than 0"))
        opts.since = cluster.clock.now() - since_seconds
    elif since_time:
        try:
            opts.since = parse_time(since_time)
        except ValueError:
            raise errors.bad_request(f'parsing time "{since_time}" as '
                                     f'"2006-01-02T15:04:05Z07:00": cannot parse') from None
    if problems:
        raise errors.invalid("PodLogOptions", pod, problems)
    return opts


def _source(cluster, namespace: str, pod_name: str, pod: dict, container: str | None,
            previous: bool) -> LogSource | None:
    names = [c["name"] for c in pod["spec"].get("containers") or []]
    init = [c["name"] for c in pod["spec"].get("initContainers") or []]
    if not container:
        if len(names) != 1:
            raise errors.bad_request(
                f"a container name must be specified for pod {pod_name}, choose one of: "
                f"[{' '.join(names)}]" + (f" or one of the init containers: [{' '.join(init)}]"
                                          if init else ""))
        container = names[0]
    if container not in names and container not in init:
        raise errors.bad_request(f"container {container} is not valid for pod {pod_name}")
    rt = cluster.kubelet.get(namespace, pod_name)
    if rt is None or not rt.node:
        return None  # not scheduled: the apiserver returns an empty body
    c = rt.container(container)
    now = cluster.clock.now()
    if previous:
        last = (c.last_terminated or {}).get("terminated")
        inst = next((i for i in c.instances if last and i.container_id == last["containerID"]),
                    None)
        if inst is None:
            raise errors.bad_request(f'previous terminated container "{container}" in pod '
                                     f'"{pod_name}" not found')
    else:
        if not c.instances:
            reason = _WAITING.get(c.waiting_reason, c.waiting_reason or "ContainerCreating")
            raise errors.bad_request(f'container "{container}" in pod "{pod_name}" is waiting '
                                     f"to start: {reason}")
        inst = c.instances[-1]
    return LogSource(c, inst, now, _custom(cluster, namespace, pod_name, container, previous))


def _custom(cluster, namespace: str, pod: str, container: str, previous: bool):
    overrides = cluster.log_overrides
    return overrides.get((namespace, pod, container, previous)) or \
        overrides.get((namespace, pod, None, previous))


async def serve_log(request: web.Request, cluster, namespace: str, name: str) -> web.StreamResponse:
    """Serve a log request (plain or ``follow=true``)."""
    stored = cluster.store.get("pods", namespace, name)
    if stored is None:
        raise errors.not_found("pods", name)
    pod = stored.obj()
    opts = _options(request, cluster, name)
    container = request.query.get("container")
    previous = query_bool(request, "previous")
    source = _source(cluster, namespace, name, pod, container, previous)
    if source is None:
        return web.Response(body=b"", content_type=TEXT)
    body, sent = select(source, opts)
    if not query_bool(request, "follow") or previous:
        return web.Response(body=body, content_type=TEXT)
    resp = web.StreamResponse(status=200, headers={"Content-Type": TEXT})
    resp.enable_chunked_encoding()
    try:
        await resp.prepare(request)
        await resp.write(body)
        await _follow(cluster, resp, source, sent, len(body), opts, namespace, name)
    except ConnectionError:
        pass  # the client stopped following
    return resp


async def _follow(cluster, resp: web.StreamResponse, source: LogSource, sent: int,
                  written: int, opts: LogOptions, namespace: str, name: str) -> None:
    budget = None if opts.limit_bytes is None else opts.limit_bytes - written
    c, inst = source.container, source.inst
    # Follow the instance we started on; the stream ends when it exits (as with a real
    # kubelet), when the pod goes away, or when limitBytes is used up.
    while budget is None or budget > 0:
        if inst.finished is not None and sent >= source.count():
            break
        await cluster.wait_change(1.0)
        if cluster.store.get("pods", namespace, name) is None:
            break
        source = LogSource(c, inst, cluster.clock.now(),
                           _custom(cluster, namespace, name, c.name, False))
        total = source.count()
        if total > sent:
            chunk = render(source, sent, total, opts.timestamps)
            if budget is not None:
                chunk = chunk[:budget]
                budget -= len(chunk)
            await resp.write(chunk)
            sent = total
    await resp.write_eof()
