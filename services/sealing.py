"""Secrets at rest: JSON sealed with Fernet under a key derived from HEADROOM_SECRET_KEY, and re-sealing on rotation."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DEV_SECRET = "dev-only-insecure-secret"  # noqa: S105 - refused outside development
SEALED = "sealed"  # the one key of a sealed mapping: {"sealed": "<Fernet token>"}
_INFO = b"headroom: secrets at rest v1"


class SealError(ValueError):
    """Sealed data cannot be opened with the configured key; the message says how to recover."""


def fernet(secret_key: str) -> Fernet:
    """The Fernet key of a secret key: HKDF-SHA256, so any length and alphabet of HEADROOM_SECRET_KEY works."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def is_sealed(stored: Any) -> bool:
    return isinstance(stored, dict) and set(stored) == {SEALED}


def seal(data: dict[str, Any], secret_key: str) -> dict[str, str]:
    return {SEALED: fernet(secret_key).encrypt(json.dumps(data, sort_keys=True).encode()).decode()}


def unseal(stored: dict[str, Any], secret_key: str, *, old_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """The plain mapping of sealed data (data stored before sealing existed is returned as it is)."""
    if not is_sealed(stored):
        return dict(stored)
    box = MultiFernet([fernet(k) for k in (secret_key, *old_keys)])
    try:
        data: dict[str, Any] = json.loads(box.decrypt(stored[SEALED].encode()))
    except InvalidToken:
        raise SealError("stored secrets cannot be opened with this HEADROOM_SECRET_KEY: if it was changed, run "
                        "`headroom secrets rotate --old-key <the previous key>`") from None
    return data
