"""Password hashing: Argon2id for new hashes, bcrypt accepted from the seed's database.

Hashing is deliberately slow, so it runs in worker threads, off the event loop:
other requests go on while a login hashes. A limiter bounds how many hashes run
at once, which bounds the memory Argon2 takes under a login burst.
"""

import os

import anyio
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

# OWASP's minimum for Argon2id: 19 MiB of memory, 2 iterations, 1 lane.
ARGON2_MEMORY_KIB = 19_456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

_hasher = PasswordHash(
    (
        Argon2Hasher(
            memory_cost=ARGON2_MEMORY_KIB,
            time_cost=ARGON2_TIME_COST,
            parallelism=ARGON2_PARALLELISM,
        ),
        BcryptHasher(),
    )
)
# One hash keeps one core busy, so more hashes at once than cores only queue inside
# the OS while each holds its 19 MiB: this bounds a worker's hashing memory to
# cores × 19 MiB (at most 4 × 19 MiB) without costing login throughput.
_hashing_slots = anyio.CapacityLimiter(min(os.cpu_count() or 1, 4))

# Verified against when the email is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("dummy password, never matches a real login")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=_hashing_slots)


async def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check a password; returns (valid, new hash if the stored one should be upgraded)."""
    return await anyio.to_thread.run_sync(
        _hasher.verify_and_update, password, hashed or _DUMMY_HASH, limiter=_hashing_slots
    )
