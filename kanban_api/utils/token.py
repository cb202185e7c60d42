"""Access tokens: HS256 JWTs carrying the user id, email and credentials version."""

import time
from collections import OrderedDict
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
    # When the login that issued the token happened (Unix seconds): how fresh the proof is.
    issued_at: float


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


class TokenVerifier:
    """Checks access tokens, remembering the ones that passed until they expire.

    A client sends the same token with every request, and checking its signature
    and parsing its JSON would otherwise be repeated for each (docs/performance.md
    has the cost). A token
    that passed stays valid until its `exp` (revocation is the database's business:
    the credentials version), so only passes are kept, expiry is checked on every
    hit, and the least recently used go first once `capacity` tokens are kept.

    `leeway_seconds` absorbs clock skew between the machines that mint and check
    tokens: a token whose `iat` or `nbf` lies up to that far in the future passes,
    and one stays valid that long past its `exp` (RFC 7519 §4.1.4-4.1.6 allow
    "some small leeway").
    """

    def __init__(self, secret_key: str, *, leeway_seconds: int = 0, capacity: int = 4096) -> None:
        self._secret_key = secret_key
        self._leeway = leeway_seconds
        self._capacity = capacity
        self._passed: OrderedDict[str, tuple[TokenClaims, float]] = OrderedDict()

    def claims(self, token: str) -> TokenClaims | None:
        """The claims of a valid token, or None for anything forged, expired or malformed."""
        checked = self._passed.get(token)
        if checked is None:
            checked = _check_signed(token, secret_key=self._secret_key, leeway=self._leeway)
            if checked is None:
                return None
            self._passed[token] = checked
            if len(self._passed) > self._capacity:
                self._passed.popitem(last=False)
        else:
            self._passed.move_to_end(token)
        claims, expires_at = checked
        # One clock for fresh and remembered tokens alike: expiry is checked here only.
        if time.time() >= expires_at + self._leeway:
            del self._passed[token]
            return None
        return claims


def _check_signed(token: str, *, secret_key: str, leeway: int) -> tuple[TokenClaims, float] | None:
    """A well-signed token's claims and expiry time (Unix seconds), expired or not;
    None if it was issued (`iat`) or becomes valid (`nbf`) over `leeway` seconds from now."""
    try:
        payload = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "email", "iat", "exp"], "verify_exp": False},
            leeway=leeway,
        )
        user_id = int(payload["sub"])
        if not 1 <= user_id <= MAX_ID:
            return None
        claims = TokenClaims(
            user_id=user_id,
            email=str(payload["email"]),
            credentials_version=int(payload.get("ver", 0)),
            issued_at=float(payload["iat"]),
        )
        return claims, float(payload["exp"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
