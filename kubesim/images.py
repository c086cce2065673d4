"""Images on the simulated node: references, IDs, pulls, pull failures and back-off.

The node keeps a cache of pulled images, so ``IfNotPresent`` containers of the
same image report ``Container image "…" already present on machine``.  Pull
failures alternate ``ErrImagePull`` and ``ImagePullBackOff`` with the kubelet's
10 s … 300 s back-off.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from .backoff import SYNC_SECONDS, pull_backoff

if TYPE_CHECKING:  # pragma: no cover
    from .kubelet import Kubelet
    from .podstate import ContainerRuntime, PodRuntime

CONFIG_RETRY_SECONDS = 5.0
IMAGE_RE = re.compile(r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
                      r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?"
                      r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_image(image: str) -> str:
    """Fully-qualified reference the runtime reports (``docker.io/library/nginx:latest``)."""
    ref = image
    first = ref.split("/", 1)[0]
    if "/" not in ref or not ("." in first or ":" in first or first == "localhost"):
        ref = "docker.io/" + (ref if "/" in ref else "library/" + ref)
    last = ref.rsplit("/", 1)[-1]
    if "@" not in ref and ":" not in last:
        ref += ":latest"
    return ref


def image_id(image: str) -> str:
    """Deterministic ``repo@sha256:…`` image ID."""
    full = normalize_image(image)
    repo = full.split("@", 1)[0]
    head, _, tail = repo.rpartition("/")
    repo = f"{head}/{tail.split(':', 1)[0]}" if head else tail.split(":", 1)[0]
    return f"{repo}@sha256:{_sha('image:' + full)}"


def needs_pull(kubelet: "Kubelet", c: ContainerRuntime) -> bool:
    """Whether starting ``c`` pulls its image (policy Always, or not cached on the node)."""
    return c.pull_policy == "Always" or normalize_image(c.image) not in kubelet.images


def begin_pull(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime, delay: float) -> None:
    """Validate the image reference, emit Pulling, and start the container after ``delay``."""
    if not IMAGE_RE.match(c.image):
        message = (f'Failed to apply default image tag "{c.image}": couldn\'t parse image '
                   f'name "{c.image}": invalid reference format')
        c.waiting_reason, c.waiting_message = "InvalidImageName", message
        kubelet.event(rt, "Warning", "InspectFailed", message, c.name)
        kubelet.event(rt, "Warning", "Failed", "Error: InvalidImageName", c.name)
        return
    if c.pull_policy == "Never" and normalize_image(c.image) not in kubelet.images:
        message = f'Container image "{c.image}" is not present with pull policy of Never'
        c.waiting_reason, c.waiting_message = "ErrImageNeverPull", message
        kubelet.event(rt, "Warning", "ErrImageNeverPull", message, c.name)
        kubelet.event(rt, "Warning", "Failed", "Error: ErrImageNeverPull", c.name)
        return
    if needs_pull(kubelet, c) or c.scenario.pull_error:
        kubelet.event(rt, "Normal", "Pulling", f'Pulling image "{c.image}"', c.name)
    pull_started = kubelet.cluster.clock.now()
    kubelet.later(rt, delay, lambda: start_container(kubelet, rt, c, pull_started))


def start_container(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime,
                    pull_started: float) -> None:
    """Image pulled (or failed), config resolved: create and start the container."""
    if rt.terminating or rt.terminal_phase:
        return
    if c.scenario.pull_error:
        pull_failed(kubelet, rt, c)
        return
    problem = kubelet.cluster.missing_env_sources(rt.namespace, rt.name, c.name)
    if problem:
        c.waiting_reason, c.waiting_message = "CreateContainerConfigError", problem
        kubelet.event(rt, "Warning", "Failed", f"Error: {problem}", c.name)
        kubelet.write(rt)
        kubelet.later(rt, CONFIG_RETRY_SECONDS,
                      lambda: start_container(kubelet, rt, c, kubelet.cluster.clock.now()))
        return
    if needs_pull(kubelet, c):
        took = max(0.001, kubelet.cluster.clock.now() - pull_started)
        size = int(hashlib.sha256(c.image.encode()).hexdigest()[:6], 16) * 64
        kubelet.event(rt, "Normal", "Pulled",
                      f'Successfully pulled image "{c.image}" in {took:.3g}s ({took:.3g}s '
                      f'including waiting). Image size: {size} bytes.', c.name)
        kubelet.images.add(normalize_image(c.image))
    else:
        kubelet.event(rt, "Normal", "Pulled",
                      f'Container image "{c.image}" already present on machine', c.name)
    kubelet.run_instance(rt, c)


def pull_failed(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime) -> None:
    """An image pull failed: ErrImagePull now, ImagePullBackOff on the next sync."""
    ref = normalize_image(c.image)
    detail = (f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
              f'failed to resolve reference "{ref}": {ref}: not found')
    c.pull_failures += 1
    c.state, c.waiting_reason, c.waiting_message = "waiting", "ErrImagePull", detail
    kubelet.event(rt, "Warning", "Failed", f'Failed to pull image "{c.image}": {detail}', c.name)
    kubelet.event(rt, "Warning", "Failed", "Error: ErrImagePull", c.name)
    kubelet.write(rt)
    kubelet.later(rt, SYNC_SECONDS, lambda: _pull_backoff(kubelet, rt, c))


def _pull_backoff(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime) -> None:
    wait = pull_backoff(c.pull_failures)
    message = f'Back-off pulling image "{c.image}"'
    c.waiting_reason, c.waiting_message = "ImagePullBackOff", message
    kubelet.event(rt, "Normal", "BackOff", message, c.name)
    kubelet.event(rt, "Warning", "Failed", "Error: ImagePullBackOff", c.name)
    kubelet.write(rt)

    def retry() -> None:
        kubelet.event(rt, "Normal", "Pulling", f'Pulling image "{c.image}"', c.name)
        kubelet.later(rt, SYNC_SECONDS, lambda: pull_failed(kubelet, rt, c))

    kubelet.later(rt, wait, retry)
