"""Reading and re-writing evidence packs in tests (to tamper with them like an attacker)."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from forensics.evidence.verify import canonical_json


def members(pack: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(pack) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def events(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files["events.jsonl"].splitlines()]


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(canonical_json(r) + b"\n" for r in rows)


def write(path: Any, files: dict[str, bytes], extra: Iterable[tuple[str, bytes]] = ()) -> Any:
    """Write ``files`` (then ``extra``) as a ZIP to ``path``, a path or a binary file."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for name, data in extra:
            zf.writestr(name, data)
    return path


def relist(files: dict[str, bytes]) -> dict[str, bytes]:
    """Update the manifest's file hashes to the files as they now are (signature unchanged)."""
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        data = files[entry["name"]]
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        entry["bytes"] = len(data)
    return {**files, "manifest.json": canonical_json(manifest)}


def resign(files: dict[str, bytes], key: Ed25519PrivateKey) -> dict[str, bytes]:
    """Sign the (re-listed) manifest with ``key``, naming it as the signer."""
    files = relist(files)
    manifest = json.loads(files["manifest.json"])
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    manifest["signer"]["public_key"] = base64.b64encode(public).decode()
    manifest["signer"]["fingerprint"] = hashlib.sha256(public).hexdigest()
    body = canonical_json(manifest)
    return {**files, "manifest.json": body, "manifest.sig": base64.b64encode(key.sign(body))}
