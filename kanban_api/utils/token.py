"""Access tokens: HS256 JWTs carrying the user id, email and credentials version."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    email: str
    credentials_version: int


def create_access_token(
    *, user_id: int, email: str, credentials_version: int, secret_key: str, minutes: int
) -> str:
    issued_at = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "email": email,
        "ver": credentials_version,
        "iat": issued_at,
        "exp": issued_at + timedelta(minutes=minutes),
    }
    return jwt.encode(payload, secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret_key: str) -> TokenClaims | None:
    """The claims of a valid token, or None for anything forged, expired or malformed."""
    try:
        payload = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "email", "iat", "exp"]},
        )
        user_id = int(payload["sub"])
        if not 1 <= user_id <= MAX_ID:
            return None
        return TokenClaims(
            user_id=user_id,
            email=str(payload["email"]),
            credentials_version=int(payload.get("ver", 0)),
        )
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
