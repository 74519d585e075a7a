"""The FairMind Model Storage REST API v1 from Python, with the standard library only.

Uploads go through commits (announce every file with its SHA-256, send only what the organization
does not store yet, complete atomically). Downloads land in a local cache keyed by SHA-256, like
``huggingface_hub.hf_hub_download``: a file already cached is re-hashed and reused, a corrupted one
is fetched again, an interrupted one resumes with an HTTP Range request.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Dict, Iterable, List, Mapping, Optional, Tuple, Union

__all__ = ["Client", "DownloadResult", "FairMindError", "ChecksumError"]

CHUNK = 1024 * 1024
PathLike = Union[str, "os.PathLike[str]"]


class FairMindError(Exception):
    """An error answer from the server (``code`` and ``message`` as it sent them) or a network failure."""

    def __init__(self, message: str, code: str = "error", status: Optional[int] = None, details: Any = None):
        super().__init__(f"{code}: {message}" if status is None else f"{code} (HTTP {status}): {message}")
        self.message = message
        self.code = code
        self.status = status
        self.details = details


class ChecksumError(FairMindError):
    """Bytes did not match their SHA-256."""

    def __init__(self, message: str):
        super().__init__(message, "checksum_mismatch")


@dataclass
class DownloadResult:
    """What :meth:`Client.snapshot` did: where the files are and which came from the cache."""

    org: str
    model: str
    version: str
    path: str
    files: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def from_cache(self) -> bool:
        """True when no byte was fetched: every file was in the cache and verified."""
        return all(f["cached"] for f in self.files)


def _quote(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def _sha256_file(path: Path, length: Optional[int] = None) -> str:
    h = hashlib.sha256()
    remaining = length
    with open(path, "rb") as f:
        while remaining is None or remaining > 0:
            chunk = f.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                break
            h.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return h.hexdigest()


def _default_cache() -> Path:
    root = os.environ.get("FAIRMIND_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "fairmind"
    )
    return Path(root)


def _safe_join(root: Path, rel: str) -> Path:
    parts = rel.split("/")
    if "\\" in rel or any(p in ("", ".", "..") for p in parts):
        raise FairMindError(f"refusing a file path outside the folder: {rel!r}", "invalid_path")
    return root.joinpath(*parts)


class Client:
    """A client for one server and one credential.

    Args:
        url: The server, e.g. ``https://models.example.com`` (default: ``FAIRMIND_URL``).
        token: An API token (``fm_…``) or an access token (default: ``FAIRMIND_TOKEN``).
        cache_dir: Where downloads are cached (default: ``FAIRMIND_CACHE`` or ``~/.cache/fairmind``).
        timeout: Seconds to wait on the network for each read.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        cache_dir: Optional[PathLike] = None,
        timeout: float = 120.0,
    ) -> None:
        url = url or os.environ.get("FAIRMIND_URL")
        if not url:
            raise ValueError("Pass url= or set FAIRMIND_URL.")
        self.url = url.rstrip("/")
        self.token = token or os.environ.get("FAIRMIND_TOKEN")
        self.cache_dir = Path(cache_dir) if cache_dir else _default_cache()
        self.timeout = timeout

    # -- HTTP ---------------------------------------------------------------------------------------

    def _headers(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        h = {"User-Agent": "fairmind-python/0.1.0"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(extra or {})
        return h

    def _open(self, method: str, path: str, data: Any = None, headers: Optional[Mapping[str, str]] = None):
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=self._headers(headers))
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            raise self._error(e) from None
        except urllib.error.URLError as e:
            raise FairMindError(f"cannot reach {self.url}: {e.reason}", "network") from None

    @staticmethod
    def _error(e: urllib.error.HTTPError) -> FairMindError:
        try:
            body = json.loads(e.read().decode("utf-8"))
            err = body.get("error") or {}
            return FairMindError(err.get("message", str(e)), err.get("code", f"http_{e.code}"), e.code, err.get("details"))
        except (ValueError, AttributeError):
            return FairMindError(str(e), f"http_{e.code}", e.code)

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {} if body is None else {"Content-Type": "application/json"}
        with self._open(method, path, data, headers) as res:
            raw = res.read()
        return json.loads(raw) if raw else None

    def _model_path(self, org: str, model: str) -> str:
        return f"/api/v1/orgs/{_quote(org)}/models/{_quote(model)}"

    # -- reading ------------------------------------------------------------------------------------

    def whoami(self) -> Dict[str, Any]:
        """The user behind the credentials, how they signed in, an API token's organization and role."""
        return self._json("GET", "/api/v1/me")

    def list_orgs(self) -> List[Dict[str, Any]]:
        """Your organizations and your role in each."""
        return self._json("GET", "/api/v1/orgs")["items"]

    def list_models(self, org: str, search: Optional[str] = None, limit: int = 50) -> List[Dict[str, Any]]:
        """Models of ``org`` (newest activity first), optionally matching ``search``."""
        q = {"limit": str(limit)}
        if search:
            q["q"] = search
        return self._json("GET", f"/api/v1/orgs/{_quote(org)}/models?{urllib.parse.urlencode(q)}")["items"]

    def versions(self, org: str, model: str) -> List[Dict[str, Any]]:
        """Versions of a model, newest first."""
        return self._json("GET", f"{self._model_path(org, model)}/versions")["items"]

    def files(self, org: str, model: str, version: str) -> List[Dict[str, Any]]:
        """A version's files: path, size, SHA-256, format, scan verdict, download URL."""
        return self._json("GET", f"{self._model_path(org, model)}/versions/{_quote(version)}/files")["items"]

    def resolve(self, org: str, model: str, ref: Optional[str] = None) -> str:
        """A version number from a version, an alias (``production``) or ``None`` (the latest)."""
        m = self._json("GET", self._model_path(org, model))
        if ref is None:
            if not m.get("latest_version"):
                raise FairMindError(f"{model} has no version yet", "not_found", 404)
            return m["latest_version"]
        for a in m.get("aliases", []):
            if a["alias"] == ref:
                return a["version"]
        if any(v["version"] == ref for v in m.get("versions", [])):
            return ref
        raise FairMindError(f"{model} has no version or alias {ref}", "not_found", 404)

    # -- writing ------------------------------------------------------------------------------------

    def set_alias(self, org: str, model: str, alias: str, version: str) -> Dict[str, Any]:
        """Moves ``alias`` (e.g. ``production``) to ``version``; returns the move with the previous version."""
        return self._json("PUT", f"{self._model_path(org, model)}/aliases/{_quote(alias)}", {"version": version})

    def upload(
        self,
        path: Union[PathLike, Iterable[PathLike]],
        org: str,
        model: str,
        version: str,
        metadata: Optional[Mapping[str, Any]] = None,
        tags: Optional[Mapping[str, str]] = None,
        provenance: Optional[Mapping[str, Any]] = None,
    ) -> Dict[str, Any]:
        """Uploads a file or a folder (or several) as a new version and returns the version.

        Creates the model when it does not exist (``metadata``: name, task_type, framework,
        description, tags). Files the organization already stores are not sent again. Each file is
        hashed and streamed from disk, never held in memory; the server refuses bytes whose SHA-256
        differs from the one announced, and the stored version is checked against the local hashes.
        """
        local = self._collect(path)
        announced = [{"path": rel, "size": p.stat().st_size, "sha256": _sha256_file(p)} for rel, p in local]
        base = self._model_path(org, model)
        commit = self._json(
            "POST",
            f"{base}/commits",
            {
                "version": version,
                "files": announced,
                "metadata": dict(metadata or {}),
                "tags": dict(tags or {}),
                "provenance": dict(provenance or {}),
            },
        )
        by_path = dict(local)
        sent = set()
        for f in commit["files"]:
            if f["state"] != "upload" or f["sha256"] in sent:
                continue
            p = by_path[f["path"]]
            size = p.stat().st_size
            with open(p, "rb") as body:
                self._put_stream(f["upload"]["put_url"], body, size)
            sent.add(f["sha256"])
        result = self._json("POST", commit["complete_url"])
        stored = {f["path"]: f["sha256"] for f in self.files(org, model, result["version"])}
        for a in announced:
            if stored.get(a["path"]) != a["sha256"]:
                raise ChecksumError(f"{a['path']}: the server stored {stored.get(a['path'])}, expected {a['sha256']}")
        return result

    def _put_stream(self, path: str, body: BinaryIO, size: int) -> Any:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        with self._open("PUT", path, body, headers) as res:
            return json.loads(res.read() or b"null")

    @staticmethod
    def _collect(path: Union[PathLike, Iterable[PathLike]]) -> List[Tuple[str, Path]]:
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        out: Dict[str, Path] = {}
        for item in paths:
            p = Path(item)
            if p.is_dir():
                for f in sorted(p.rglob("*")):
                    if f.is_file():
                        out[f.relative_to(p).as_posix()] = f
            elif p.is_file():
                out[p.name] = p
            else:
                raise FileNotFoundError(str(p))
        if not out:
            raise ValueError("nothing to upload")
        return list(out.items())

    # -- downloading --------------------------------------------------------------------------------

    def download(
        self,
        org: str,
        model: str,
        version: Optional[str] = None,
        filename: Optional[str] = None,
        cache_dir: Optional[PathLike] = None,
    ) -> str:
        """Downloads a version (``version`` may be an alias; ``None`` is the latest) into the cache.

        Returns the folder of the version's files, or the one file's path when ``filename`` is
        given. A second call reuses cached bytes after re-hashing them (no transfer); a cached file
        whose hash no longer matches is fetched again.
        """
        r = self.snapshot(org, model, version, filename=filename, cache_dir=cache_dir)
        return str(_safe_join(Path(r.path), filename)) if filename else r.path

    def snapshot(
        self,
        org: str,
        model: str,
        version: Optional[str] = None,
        filename: Optional[str] = None,
        cache_dir: Optional[PathLike] = None,
    ) -> DownloadResult:
        """Like :meth:`download`, and says for each file whether it came from the cache."""
        cache = Path(cache_dir) if cache_dir else self.cache_dir
        resolved = self.resolve(org, model, version)
        items = self.files(org, model, resolved)
        if filename is not None:
            items = [f for f in items if f["path"] == filename]
            if not items:
                raise FairMindError(f"{model}@{resolved} has no file {filename}", "not_found", 404)
        snap = cache / "snapshots" / org / model / resolved
        result = DownloadResult(org, model, resolved, str(snap))
        for f in items:
            blob, cached = self._blob(cache, f)
            target = _safe_join(snap, f["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            self._place(blob, target)
            result.files.append({"path": f["path"], "sha256": f["sha256"], "size": f["size"], "cached": cached})
        return result

    def _blob(self, cache: Path, f: Mapping[str, Any]) -> Tuple[Path, bool]:
        """The verified cache file for one SHA-256, fetching (or resuming) it when missing or corrupt."""
        sha = f["sha256"]
        blobs = cache / "blobs"
        blobs.mkdir(parents=True, exist_ok=True)
        blob = blobs / sha
        if blob.exists():
            if blob.stat().st_size == f["size"] and _sha256_file(blob) == sha:
                return blob, True
            blob.unlink()  # corrupted or truncated: fetch again
        part = blobs / f"{sha}.incomplete"
        have = part.stat().st_size if part.exists() else 0
        if have >= f["size"]:  # nothing left to ask for: start over rather than meet a 416
            part.unlink()
            have = 0
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{sha}"'} if have else {}
        with self._open("GET", f["download_url"], headers=headers) as res:
            mode = "ab" if have and res.status == 206 else "wb"
            with open(part, mode) as out:
                shutil.copyfileobj(res, out, CHUNK)
        got = _sha256_file(part)
        if got != sha:
            part.unlink()
            raise ChecksumError(f"{f['path']}: got SHA-256 {got}, expected {sha}")
        os.replace(part, blob)
        return blob, False

    @staticmethod
    def _place(blob: Path, target: Path) -> None:
        """Links the snapshot file to its blob (a hard link; a copy where links are not possible)."""
        if target.exists() and os.path.samefile(blob, target):
            return
        tmp = target.with_name(target.name + ".tmp")
        if tmp.exists():
            tmp.unlink()
        try:
            os.link(blob, tmp)
        except OSError:
            shutil.copyfile(blob, tmp)
        os.replace(tmp, target)
