"""Password hashing: Argon2id for new hashes, bcrypt accepted from the seed's database.

Hashing is deliberately slow, so it runs in worker threads, off the event loop:
other requests go on while a login hashes. A limiter bounds how many hashes run
at once, which bounds the memory Argon2 takes under a login burst.
"""

import ctypes
import ctypes.util
import os

import anyio
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

GLIBC_M_MMAP_THRESHOLD = -3
GLIBC_DEFAULT_MMAP_THRESHOLD = 128 * 1024


def _give_hash_memory_back() -> None:
    """Make glibc return Argon2's 19 MiB blocks to the OS as soon as each hash ends.

    glibc raises its mmap threshold to the largest block freed so far, so after
    the first hash every hashing thread would keep 19 MiB in its own heap for
    good. Fixing the threshold at glibc's
    default keeps such blocks in mmap, unmapped when freed. Elsewhere: no-op.
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError):
        return
    mallopt(GLIBC_M_MMAP_THRESHOLD, GLIBC_DEFAULT_MMAP_THRESHOLD)


_give_hash_memory_back()

# OWASP's minimum for Argon2id: 19 MiB of memory, 2 iterations, 1 lane.
ARGON2_MEMORY_KIB = 19_456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

BCRYPT_MAX_BYTES = 72


class _SeedBcryptHasher(BcryptHasher):
    """Verifies the seed's bcrypt hashes as passlib made them: from the first 72 bytes.

    bcrypt itself now refuses longer passwords with an error instead of ignoring
    the rest, which would turn a long password into a server error.
    """

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        encoded = password.encode() if isinstance(password, str) else password
        return super().verify(encoded[:BCRYPT_MAX_BYTES], hash)


_hasher = PasswordHash(
    (
        Argon2Hasher(
            memory_cost=ARGON2_MEMORY_KIB,
            time_cost=ARGON2_TIME_COST,
            parallelism=ARGON2_PARALLELISM,
        ),
        _SeedBcryptHasher(),
    )
)


def usable_cores() -> int:
    """The CPU cores this process may run on: fewer than the machine's when it is pinned
    (`taskset`, a container's cpuset), where the OS offers `sched_getaffinity`."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# One hash keeps one core busy, so more hashes at once than the cores the worker may
# use only queue inside the OS while each holds its 19 MiB: this bounds a worker's
# hashing memory to cores x 19 MiB (at most 4 x 19 MiB) without costing login throughput.
_hashing_slots = anyio.CapacityLimiter(min(usable_cores(), 4))

# Verified against when the email is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("dummy password, never matches a real login")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=_hashing_slots)


async def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check a password; returns (valid, new hash if the stored one should be upgraded)."""
    return await anyio.to_thread.run_sync(
        _hasher.verify_and_update, password, hashed or _DUMMY_HASH, limiter=_hashing_slots
    )
