"""Fixtures of the secrets / health checks / browser access tests (pods fixtures reused)."""
from tests.pods.conftest import _fast_tenant_keys, alice, bob, make_pod  # noqa: F401
