"""OIDC providers' signing keys: discovered, fetched, cached and shared at a bounded cost.

A bearer token names its issuer and key (``kid``) before anything is verified, so whoever sends
tokens chooses what the server would fetch. Three rules keep that cheap and safe:

- **Cached and shared.** An issuer's key set (JWKS) and its ``jwks_uri`` are kept in this process
  and in Redis (``{PODS_REDIS_PREFIX}:oidc:jwks:<issuer hash>``), so a set one web worker
  fetched serves every worker. A set is fresh for ``PODS_OIDC_JWKS_TTL`` seconds.
- **Fetched at most once per ``PODS_OIDC_REFETCH_SECONDS`` per issuer**, across every process
  (a Redis ``SET NX EX`` claim; a per-process clock if Redis is down). A token naming an unknown
  ``kid`` refetches only when the issuer's turn is free; otherwise it is refused at once,
  without contacting the provider. A stale set keeps verifying the keys it holds while a refetch
  is not possible (provider down, turn taken).
- **Never longer than ``PODS_OIDC_HTTP_TIMEOUT`` in total.** Discovery plus JWKS run on a small
  thread pool and the request stops waiting at the deadline; a late answer still fills the
  cache for the next request.
"""
import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import jwt
import redis
import requests
from django.conf import settings

from .errors import AuthFailed

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 1024 * 1024  # a discovery document or key set larger than this is refused
SHARED_COPY_SECONDS = 86400  # how long Redis keeps a set nobody refreshed
UNREACHABLE = "The token's OIDC provider could not be reached to verify it."


@dataclass(frozen=True)
class KeySet:
    jwks_uri: str
    jwks: dict  # the provider's JSON
    fetched_at: float  # time.time()

    def fresh(self) -> bool:
        return time.time() - self.fetched_at < settings.PODS_OIDC_JWKS_TTL

    def keys_for(self, kid: str | None) -> list:
        """The signing keys a token with ``kid`` may be verified with (every one without a kid)."""
        try:
            keys = jwt.PyJWKSet.from_dict(self.jwks).keys
        except jwt.PyJWTError:
            return []
        keys = [k for k in keys if k.public_key_use in ("sig", None)]
        return keys if not kid else [k for k in keys if k.key_id == kid]


class _Unreachable(Exception):
    pass


_local: dict[str, KeySet] = {}
_local_turns: dict[str, float] = {}  # issuer -> time.monotonic() of this process's last fetch
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="oidc-fetch")
        return _pool


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)


def _key(kind: str, issuer: str) -> str:
    return f"{settings.PODS_REDIS_PREFIX}:oidc:{kind}:{hashlib.sha256(issuer.encode()).hexdigest()[:32]}"


def _shared(issuer: str) -> KeySet | None:
    try:
        raw = _redis().get(_key("jwks", issuer))
    except redis.RedisError:
        return None
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return KeySet(data["jwks_uri"], data["jwks"], float(data["fetched_at"]))
    except (ValueError, KeyError, TypeError):
        return None


def _remember(issuer: str, keyset: KeySet) -> None:
    with _lock:
        current = _local.get(issuer)
        if current is None or current.fetched_at <= keyset.fetched_at:
            _local[issuer] = keyset
    try:
        _redis().set(_key("jwks", issuer), json.dumps({"jwks_uri": keyset.jwks_uri, "jwks": keyset.jwks,
                                                        "fetched_at": keyset.fetched_at}),
                     ex=SHARED_COPY_SECONDS)
    except redis.RedisError as exc:
        logger.warning("OIDC keys of %s not shared through Redis: %s", issuer, exc)


def _current(issuer: str, *, look_further: bool = False) -> KeySet | None:
    """The newest set known here or, when the local one is stale (or ``look_further``), in Redis."""
    with _lock:
        local = _local.get(issuer)
    if local is not None and local.fresh() and not look_further:
        return local
    shared = _shared(issuer)
    if shared is not None and (local is None or shared.fetched_at > local.fetched_at):
        with _lock:
            _local[issuer] = shared
        return shared
    return local


def _claim_turn(issuer: str) -> bool:
    """Whether this request may contact the provider now (one fetch per issuer per interval)."""
    interval = settings.PODS_OIDC_REFETCH_SECONDS
    try:
        return bool(_redis().set(_key("turn", issuer), "1", nx=True, ex=max(1, int(interval))))
    except redis.RedisError:
        now = time.monotonic()
        with _lock:
            last = _local_turns.get(issuer)
            if last is not None and now - last < interval:
                return False
            _local_turns[issuer] = now
        return True


def _get_json(url: str, timeout: float) -> dict:
    with requests.get(url, timeout=timeout, stream=True, headers={"Accept": "application/json"}) as response:
        response.raise_for_status()
        body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not send a JSON object")
    return data


def _download(issuer: str, jwks_uri: str | None) -> KeySet:
    """Discovery (unless the uri is known) and the key set; stores the result. Runs on the pool."""
    timeout = settings.PODS_OIDC_HTTP_TIMEOUT
    if not jwks_uri:
        jwks_uri = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout)["jwks_uri"]
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise ValueError("the discovery document names no jwks_uri")
    keyset = KeySet(jwks_uri, _get_json(jwks_uri, timeout), time.time())
    _remember(issuer, keyset)
    return keyset


def _fetch(issuer: str, known: KeySet | None) -> KeySet:
    future = _executor().submit(_download, issuer, known.jwks_uri if known else None)
    try:
        return future.result(timeout=settings.PODS_OIDC_HTTP_TIMEOUT)
    except FutureTimeout:
        logger.warning("OIDC provider %s did not answer within %ss", issuer, settings.PODS_OIDC_HTTP_TIMEOUT)
        raise _Unreachable from None
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        logger.warning("OIDC provider %s: keys could not be fetched: %s", issuer, exc)
        raise _Unreachable from exc


def signing_keys(issuer: str, kid: str | None) -> list:
    """The provider keys that may verify a token of ``issuer`` naming ``kid`` (see module doc).

    401 when there is none: an unknown ``kid`` (after a refetch if the issuer's turn was free),
    or a provider that cannot be reached in time and no cached set to fall back on.
    """
    keyset = _current(issuer)
    if keyset is not None and keyset.fresh():
        keys = keyset.keys_for(kid)
        if keys:
            return keys
        keyset = _current(issuer, look_further=True)  # another worker may have fetched a newer set
        keys = keyset.keys_for(kid)
        if keys and keyset.fresh():
            return keys
    if _claim_turn(issuer):
        try:
            keyset = _fetch(issuer, keyset)
        except _Unreachable:
            keys = keyset.keys_for(kid) if keyset is not None else []
            if keys:
                return keys  # a stale set still verifies what it holds
            raise AuthFailed(UNREACHABLE) from None
        keys = keyset.keys_for(kid)
        if keys:
            return keys
        if not keyset.keys_for(None):
            raise AuthFailed("The OIDC provider publishes no usable signing key.")
        raise AuthFailed("Token signing key is not among the provider's published keys.")
    keys = keyset.keys_for(kid) if keyset is not None else []
    if keys:
        return keys
    if keyset is None:
        raise AuthFailed(UNREACHABLE)
    raise AuthFailed("Token signing key is not among the provider's published keys (they are fetched again "
                     f"at most every {settings.PODS_OIDC_REFETCH_SECONDS:g} seconds).")


def forget():
    """Drop every cached key set and fetch turn (tests; an operator changing a tenant's issuer)."""
    with _lock:
        _local.clear()
        _local_turns.clear()
    try:
        client = _redis()
        keys = list(client.scan_iter(f"{settings.PODS_REDIS_PREFIX}:oidc:*"))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass
