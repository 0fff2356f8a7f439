"""Store and load a site's learned boilerplate under data/state/boilerplate/, atomically."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from pipelines.learned import LearnedBoilerplate, LearnParams

_T = TypeVar("_T")
FORMAT = "localnews-learned-boilerplate"
FORMAT_VERSION = 1
# Sites-file ids are [a-z0-9][a-z0-9_-]*, foreign WARCs use host names (dots); no "/", and
# no leading dot, so "." and ".." cannot be formed.
_SITE_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,199}")


class LearnedStateError(ValueError):
    """A stored learned-boilerplate file is unreadable, damaged or of another format version."""


def storable_site_id(site: str) -> bool:
    """Whether ``site`` can name a state file: no path separators, no leading dot."""
    return isinstance(site, str) and _SITE_RE.fullmatch(site) is not None


def state_path(data_dir: Path, site: str) -> Path:
    """``<data_dir>/state/boilerplate/<site>.json``; ValueError for a site id that could escape."""
    if not storable_site_id(site):
        raise ValueError(f"invalid site id {site!r}: expected [a-z0-9][a-z0-9._-]*, ≤ 200 chars")
    return Path(data_dir) / "state" / "boilerplate" / f"{site}.json"


def save(data_dir: Path, site: str, state: LearnedBoilerplate) -> Path:
    """Write ``state`` for ``site`` atomically (temp file, fsync, rename); return its path."""
    path = state_path(data_dir, site)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "site": site,
        "pages": state.pages,
        "params": asdict(state.params),
        "fingerprint": state.fingerprint,
        "lines": [{"line": key, "pages": count} for key, count in state.lines],
        "blocks": [{"head": head, "max_lines": most} for head, most in state.blocks],
    }
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{site}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # makes the rename durable; not possible everywhere
        directory = os.open(path.parent, os.O_RDONLY)
        os.fsync(directory)
        os.close(directory)
    return path


def load(data_dir: Path, site: str) -> LearnedBoilerplate:
    """The stored state for ``site``; empty when none was learned.

    Raises LearnedStateError for an unreadable, damaged, edited or other-version file.
    """
    path = state_path(data_dir, site)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LearnedBoilerplate()
    except (OSError, UnicodeDecodeError) as exc:
        raise LearnedStateError(f"{path}: cannot read: {exc}") from exc
    try:
        return _from_document(json.loads(text), site)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise LearnedStateError(
            f"{path}: damaged learned state ({type(exc).__name__}: {exc}); "
            f"delete it or learn again with: localnews learn-boilerplate --site {site}"
        ) from exc


def _from_document(data: Any, site: str) -> LearnedBoilerplate:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"format version {data.get('version')!r}, expected {FORMAT_VERSION}")
    if data.get("site") != site:
        raise ValueError(f"learned for site {data.get('site')!r}, not {site!r}")
    state = LearnedBoilerplate(
        lines=tuple((_typed(e["line"], str), _typed(e["pages"], int)) for e in data["lines"]),
        blocks=tuple((_typed(e["head"], str), _typed(e["max_lines"], int)) for e in data["blocks"]),
        pages=_typed(data["pages"], int),
        params=LearnParams(**data["params"]),
    )
    stored = data.get("fingerprint")  # absent: a hand-edited file, accepted as it is
    if stored is not None and stored != state.fingerprint:
        raise ValueError(f"fingerprint {stored!r} does not match the content {state.fingerprint!r}")
    return state


def _typed(value: Any, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value):
        raise ValueError(f"expected {kind.__name__}, got {value!r}")
    return value
