"""transfer.py against a small HTTP server standing in for presigned S3 URLs: exact bytes per part,
Content-Length on every PUT, retries, downloads renamed only when complete, no path outside the root."""

import hashlib
import http.server
import json
import threading

import pytest

import transfer


class Bucket(http.server.BaseHTTPRequestHandler):
    objects: dict = {}
    failures: dict = {}
    lengths: list = []

    def log_message(self, *args):
        pass

    def do_PUT(self):
        if self.failures.get(self.path, 0) > 0:
            self.failures[self.path] -= 1
            self.send_response(500)
            self.end_headers()
            return
        length = int(self.headers["Content-Length"])
        self.lengths.append(length)
        body = self.rfile.read(length)
        self.objects[self.path] = body
        self.send_response(200)
        self.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        body = self.objects.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server():
    Bucket.objects, Bucket.failures, Bucket.lengths = {}, {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Bucket)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_uploads_each_part_with_its_bytes_and_returns_etags(tmp_path, server, monkeypatch):
    data = bytes(range(256)) * 40  # 10240 bytes
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "weights.bin").write_bytes(data)
    monkeypatch.setattr(transfer, "CHUNK", 1000)  # parts span several reads
    manifest = {
        "root": str(tmp_path),
        "uploads": [{"path": "sub/weights.bin", "parts": [
            {"url": f"{server}/w?partNumber=1", "offset": 0, "length": 6000},
            {"url": f"{server}/w?partNumber=2", "offset": 6000, "length": 4240},
        ]}],
    }
    result = transfer.transfer(manifest)
    assert Bucket.objects["/w?partNumber=1"] + Bucket.objects["/w?partNumber=2"] == data
    assert Bucket.lengths == [6000, 4240]
    assert result["etags"]["sub/weights.bin"] == [
        f'"{hashlib.md5(data[:6000]).hexdigest()}"', f'"{hashlib.md5(data[6000:]).hexdigest()}"']
    assert result["bytes"] == len(data)


def test_retries_a_failed_put(tmp_path, server, monkeypatch):
    monkeypatch.setattr(transfer.time, "sleep", lambda _: None)
    (tmp_path / "a").write_bytes(b"hello")
    Bucket.failures["/a"] = 2
    transfer.transfer({"root": str(tmp_path), "uploads": [{"path": "a", "parts": [{"url": f"{server}/a", "offset": 0, "length": 5}]}]})
    assert Bucket.objects["/a"] == b"hello"


def test_gives_up_after_the_last_attempt_and_exits_non_zero(tmp_path, server, monkeypatch, capsys):
    monkeypatch.setattr(transfer.time, "sleep", lambda _: None)
    (tmp_path / "a").write_bytes(b"hello")
    Bucket.failures["/a"] = transfer.ATTEMPTS
    manifest = {"root": str(tmp_path), "uploads": [{"path": "a", "parts": [{"url": f"{server}/a", "offset": 0, "length": 5}]}]}
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(json.dumps(manifest)))
    assert transfer.main() == 1
    assert "HTTP 500" in capsys.readouterr().err
    assert "/a" not in Bucket.objects


def test_a_file_shorter_than_planned_fails(tmp_path, server, monkeypatch):
    monkeypatch.setattr(transfer.time, "sleep", lambda _: None)
    (tmp_path / "a").write_bytes(b"abc")
    with pytest.raises(OSError, match="shorter than expected"):
        transfer.transfer({"root": str(tmp_path), "uploads": [{"path": "a", "parts": [{"url": f"{server}/a", "offset": 0, "length": 10}]}]})


def test_downloads_land_complete_or_not_at_all(tmp_path, server, monkeypatch):
    monkeypatch.setattr(transfer.time, "sleep", lambda _: None)
    Bucket.objects["/m/config.json"] = b'{"a": 1}'
    transfer.transfer({"root": str(tmp_path), "downloads": [
        {"path": "model/config.json", "url": f"{server}/m/config.json", "size": 8}]})
    assert (tmp_path / "model" / "config.json").read_bytes() == b'{"a": 1}'
    with pytest.raises(OSError, match="expected 9"):
        transfer.transfer({"root": str(tmp_path), "downloads": [
            {"path": "model/other.json", "url": f"{server}/m/config.json", "size": 9}]})
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json"]


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../b"])
def test_refuses_paths_outside_the_root(tmp_path, server, path):
    with pytest.raises(ValueError, match="outside"):
        transfer.transfer({"root": str(tmp_path), "downloads": [{"path": path, "url": f"{server}/x", "size": 1}]})
