"""RSA key pairs and signing of development tokens."""
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def generate_rsa_keypair() -> tuple[str, str]:
    """Return ``(private_pem, public_pem)`` of a new 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


def tapis_claims(*, tenant_id: str, username: str, ttl: int, account_type: str = "user",
                 issuer: str = "") -> dict:
    """Claims shaped like a Tapis access token (the ones this service and tapipy read)."""
    now = int(time.time())
    return {
        "jti": str(uuid.uuid4()),
        "iss": issuer or f"https://{tenant_id}.tapis.local/v3/tokens",
        "sub": f"{username}@{tenant_id}",
        "iat": now,
        "exp": now + ttl,
        "tapis/tenant_id": tenant_id,
        "tapis/username": username,
        "tapis/account_type": account_type,
        "tapis/token_type": "access",
        "tapis/delegation": False,
    }


def sign_rs256(claims: dict, private_pem: str, kid: str = "") -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, private_pem, algorithm="RS256", headers=headers)
