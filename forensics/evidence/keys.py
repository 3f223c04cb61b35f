"""The dashboard's evidence-signing key (Ed25519), kept in a file outside the repository.

``EVIDENCE_SIGNING_KEY`` names a PEM file (PKCS#8, unencrypted, mode 0600). When it does not
exist yet it is created on first use, so a fresh checkout can sign packs; in production give
every exports worker the same provisioned file. Its public fingerprint is what auditors pin
when they verify a pack (``manage.py evidence_key``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from forensics.evidence.verify import key_fingerprint


def key_path() -> Path:
    return Path(settings.EVIDENCE_SIGNING_KEY)


def signing_key() -> Ed25519PrivateKey:
    """The signing key, created (exclusively, 0600) if its file does not exist yet."""
    path = key_path()
    if not path.exists():
        _create(path)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"EVIDENCE_SIGNING_KEY {path} is not an Ed25519 private key")
    return key


def _create(path: Path) -> None:
    """Write a new key beside ``path`` and link it into place: the file appears whole, and
    when two processes race the first link wins and both use that key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    temp = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def public_key_pem() -> str:
    pem = signing_key().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def fingerprint() -> str:
    return fingerprint_of(signing_key())


def fingerprint_of(key: Ed25519PrivateKey) -> str:
    return key_fingerprint(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def existing_fingerprint() -> str | None:
    """The key's fingerprint if this machine holds the key, without making one: web servers
    show it but never sign, and must not invent a key of their own."""
    return fingerprint() if key_path().exists() else None
