"""Moves files between a node and an object store through presigned URLs: the node holds no credentials.

Standard library only (it runs with any python3, before or without the training venv). Reads one JSON
manifest on stdin and prints one JSON result on stdout:

  {"root": "<folder>",
   "uploads":   [{"path": "rel/file", "parts": [{"url": "...", "offset": 0, "length": 123}]}],
   "downloads": [{"path": "rel/file", "url": "...", "size": 123}]}
  -> {"etags": {"rel/file": ["\"etag of part 1\"", ...]}, "bytes": N, "seconds": S}

Each part is sent with its exact Content-Length, read from the file in chunks (never whole in memory),
and retried a few times. A download is written to a temporary name and renamed once complete.
"""

import http.client
import json
import os
import sys
import time
import urllib.parse

CHUNK = 1 << 20
ATTEMPTS = 3
TIMEOUT_SECONDS = 300


def _connection(url: str):
    parsed = urllib.parse.urlsplit(url)
    factory = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return factory(parsed.netloc, timeout=TIMEOUT_SECONDS), target


def _send_part(path: str, part: dict) -> str:
    conn, target = _connection(part["url"])
    try:
        conn.putrequest("PUT", target, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(part["length"]))
        conn.endheaders()
        with open(path, "rb") as handle:
            handle.seek(part["offset"])
            left = part["length"]
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    raise OSError(f"{path} is shorter than expected (changed during upload?)")
                conn.send(chunk)
                left -= len(chunk)
        response = conn.getresponse()
        body = response.read()
        if response.status // 100 != 2:
            raise OSError(f"PUT {path}: HTTP {response.status}: {body[:300].decode(errors='replace')}")
        return response.getheader("ETag") or ""
    finally:
        conn.close()


def _fetch(path: str, url: str, size: int) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    partial = f"{path}.tuneforge-partial"
    conn, target = _connection(url)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        if response.status != 200:
            raise OSError(f"GET {path}: HTTP {response.status}: {response.read()[:300].decode(errors='replace')}")
        written = 0
        with open(partial, "wb") as handle:
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                handle.write(chunk)
                written += len(chunk)
        if written != size:
            raise OSError(f"GET {path}: got {written} bytes, expected {size}")
        os.replace(partial, path)
    finally:
        conn.close()
        if os.path.exists(partial):
            os.remove(partial)


def _retried(action, what: str):
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return action()
        except (OSError, http.client.HTTPException) as error:
            if attempt == ATTEMPTS:
                raise OSError(f"{what}: {error}") from error
        time.sleep(attempt)
    raise AssertionError("unreachable")


def _inside(root: str, relative: str) -> str:
    path = os.path.normpath(os.path.join(root, relative))
    if os.path.isabs(relative) or not path.startswith(os.path.normpath(root) + os.sep):
        raise ValueError(f"refusing a path outside {root}: {relative!r}")
    return path


def transfer(manifest: dict) -> dict:
    root = manifest["root"]
    started = time.monotonic()
    moved = 0
    etags = {}
    for upload in manifest.get("uploads", []):
        path = _inside(root, upload["path"])
        etags[upload["path"]] = [
            _retried(lambda part=part: _send_part(path, part), f"upload {upload['path']}") for part in upload["parts"]
        ]
        moved += sum(part["length"] for part in upload["parts"])
    for download in manifest.get("downloads", []):
        path = _inside(root, download["path"])
        _retried(lambda: _fetch(path, download["url"], download["size"]), f"download {download['path']}")
        moved += download["size"]
    return {"etags": etags, "bytes": moved, "seconds": round(time.monotonic() - started, 3)}


def main() -> int:
    try:
        result = transfer(json.load(sys.stdin))
    except (OSError, ValueError, KeyError) as error:
        print(f"transfer: {error}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
