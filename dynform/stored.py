"""Stored measurements: one writer and one reader for the JSON files the package keeps.

:func:`write` writes a document atomically (a temporary file in the same folder, then a rename), so
a crash or a second writer never leaves half a file, and adds ``sha256``, the hash of the document's
content; a path ending in ``.gz`` is written and read gzip-compressed. :func:`read` checks a stored file when it is read: a missing file, one that is not valid
JSON or whose content no longer matches its hash stops with one line that names the file and the
command that remakes it.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

#: The key of the content hash in a stored document.
HASH = "sha256"


class StoredFileError(RuntimeError):
    """A stored file is missing, truncated or changed; the message names it and how to remake it."""


def compact(x: Any) -> Any:
    """Floats to 9 significant digits, where every float32 value survives exactly; lists kept."""
    if isinstance(x, list):
        return [compact(v) for v in x]
    return float(f"{x:.9g}") if isinstance(x, float) else x


def content_hash(doc: Mapping[str, Any]) -> str:
    """SHA-256 of ``doc`` without its own hash, as canonical JSON (sorted keys, no spaces)."""
    body = {k: v for k, v in doc.items() if k != HASH}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def dumps(doc: Mapping[str, Any], lines: str | None = None) -> str:
    """``doc`` as indented JSON; the entries of ``doc[lines]`` (a list, or a dict of dicts), one per line."""
    if lines is None or lines not in doc:
        return json.dumps(doc, indent=1, sort_keys=True) + "\n"
    rest = {k: v for k, v in doc.items() if k != lines}
    head = json.dumps(rest, indent=1, sort_keys=True)[:-2]
    if isinstance(doc[lines], list):
        body = ",\n".join(json.dumps(v, separators=(",", ":")) for v in doc[lines])
        return f'{head},\n {json.dumps(lines)}: [\n{body}\n]}}\n'
    groups = []
    for group, entries in sorted(doc[lines].items()):
        body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in sorted(entries.items()))
        groups.append(f" {json.dumps(group)}: {{\n{body}\n }}")
    return f'{head},\n {json.dumps(lines)}: {{\n' + ",\n".join(groups) + "\n }\n}\n"


def write(path: str | Path, doc: Mapping[str, Any], lines: str | None = None) -> dict[str, Any]:
    """Write ``doc`` with its content hash to ``path`` atomically; returns what was written.
    ``lines`` names a dict of dicts whose entries go one per line (large tables stay diffable)."""
    path = Path(path)
    out = {**{k: v for k, v in doc.items() if k != HASH}, HASH: ""}
    out[HASH] = content_hash(out)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        data = dumps(out, lines).encode()
        with os.fdopen(fd, "wb") as f:
            f.write(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a temporary file is private; the stored one is not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def read(path: str | Path, remake: str) -> dict[str, Any]:
    """The document stored at ``path``, checked: it exists, is valid JSON and matches its hash (where
    it has one). Otherwise :class:`StoredFileError`, naming the file and ``remake``, the command that
    makes it again."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        doc = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    except FileNotFoundError:
        raise StoredFileError(f"{path}: missing; make it with `{remake}`") from None
    except (OSError, ValueError, EOFError) as err:
        raise StoredFileError(f"{path}: unreadable ({type(err).__name__}: {err}); make it again with `{remake}`") \
            from None
    if not isinstance(doc, dict):
        raise StoredFileError(f"{path}: not a stored measurement; make it again with `{remake}`")
    if HASH in doc and doc[HASH] != content_hash(doc):
        raise StoredFileError(f"{path}: its content does not match its hash (changed by hand or truncated); "
                              f"make it again with `{remake}`")
    return doc
