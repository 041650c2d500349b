"""Filters of DataLab's roles.

bcrypt_hash: a bcrypt ($2b$) hash of a password with a salt kept in Vault beside it, so
the hash in a web config is the same on every converge (idempotent) and changes only when
the password or the salt is rotated. Uses the `bcrypt` package when the controller has it,
else Python's crypt module (the project pins Python 3.11, which has it; Debian's libxcrypt
knows $2b$); both give the same hash for the same salt. ansible.builtin.password_hash
would need passlib, which is unmaintained and fails with bcrypt >= 5.

jmx_password_hash: the passwordHash of the Prometheus JMX exporter's SHA-256 basic auth,
in the form the exporter compares (see the function).
"""

from __future__ import annotations

import hashlib
import re

from ansible.errors import AnsibleFilterError

# bcrypt's base64 alphabet; a 22nd salt character must have its low 4 bits zero.
_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def bcrypt_hash(password: str, salt: str, rounds: int = 10) -> str:
    """bcrypt of `password` with the first 21 characters of `salt` (from [A-Za-z0-9./])."""
    if not re.fullmatch(r"[A-Za-z0-9./]{21,}", salt or ""):
        raise AnsibleFilterError("bcrypt_hash: the salt needs 21 characters of [A-Za-z0-9./]")
    if not 4 <= int(rounds) <= 31:
        raise AnsibleFilterError("bcrypt_hash: rounds must be 4 to 31")
    setting = f"$2b${int(rounds):02d}${salt[:21]}{_ALPHABET[32]}"
    try:
        import bcrypt
    except ImportError:
        bcrypt = None
    if bcrypt is not None:
        return bcrypt.hashpw(password.encode(), setting.encode()).decode()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    hashed = crypt.crypt(password, setting)
    if not hashed or not hashed.startswith("$2b$"):
        raise AnsibleFilterError(
            "bcrypt_hash: this crypt(3) has no bcrypt: pip install bcrypt on the controller"
        )
    return hashed


def jmx_password_hash(password: str, salt: str) -> str:
    """SHA-256 of "salt:password" as hex without leading zeros: the JMX exporter (1.0.1)
    prints its digest through BigInteger.toString(16), which drops them, and compares
    that with the configured hash; a full 64-digit hash starting with 0 (one salt in 16)
    would refuse the right password forever."""
    if not salt:
        raise AnsibleFilterError("jmx_password_hash: the salt must not be empty")
    digest = hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()
    return digest.lstrip("0") or "0"


class FilterModule:
    def filters(self):
        return {"bcrypt_hash": bcrypt_hash, "jmx_password_hash": jmx_password_hash}
