"""A tiny stand-in for the Hugging Face Hub, enough for ``hf_hub_download`` / ``from_pretrained`` and for
``create_repo`` + ``create_commit`` (files sent inline, the Hub's "regular" upload mode).

It serves ``<root>/<org>/<name>/<file>`` at ``/<org>/<name>/resolve/<revision>/<file>`` with the
headers the Hub sends (X-Repo-Commit, ETag, Content-Length), answers a ``Range: bytes=a-b`` request with
206 and those bytes only (as the Hub does: how a safetensors header is read without the weights),
answers 404 with the Hub's error codes for missing repos and files, writes committed files under
``<root>/<org>/<name>/``, and records every request and the body bytes sent per file, so tests can
count downloads. Point ``HF_ENDPOINT`` at ``server.url`` (before huggingface_hub is imported).
"""

import base64
import collections
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote


class FakeHub:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.requests: list[tuple[str, str]] = []
        self.bytes_sent: collections.Counter = collections.Counter()  # body bytes per request path
        self.tags: list[tuple[str, str, str]] = []  # (repo, tag, revision)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_HEAD(self):
                self._serve(body=False)

            def do_GET(self):
                self._serve(body=True)

            def do_POST(self):
                hub.requests.append((self.command, self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = unquote(self.path.split("?")[0]).strip("/").split("/")
                if parts[:3] == ["api", "repos", "create"]:
                    req = json.loads(body)
                    repo = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                    (hub.root / repo).mkdir(parents=True, exist_ok=True)
                    return self._json({"url": f"{hub.url}/{repo}", "name": repo})
                if parts[:2] == ["api", "validate-yaml"]:  # the model card's metadata is checked before a commit
                    return self._json({"errors": [], "warnings": []})
                if len(parts) >= 6 and parts[0] == "api" and parts[1] == "models" and parts[4] == "preupload":
                    files = json.loads(body)["files"]
                    return self._json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                 for f in files]})
                if len(parts) >= 6 and parts[0] == "api" and parts[1] == "models" and parts[4] == "commit":
                    repo = hub.root / parts[2] / parts[3]
                    for line in body.decode().splitlines():
                        item = json.loads(line)
                        if item.get("key") == "file":
                            value = item["value"]
                            target = repo / value["path"]
                            target.parent.mkdir(parents=True, exist_ok=True)
                            target.write_bytes(base64.b64decode(value["content"]))
                    oid = hashlib.sha1(body).hexdigest()
                    return self._json({"commitUrl": f"{hub.url}/{parts[2]}/{parts[3]}/commit/{oid}", "commitOid": oid,
                                       "pullRequestUrl": None})
                if len(parts) >= 6 and parts[0] == "api" and parts[1] == "models" and parts[4] == "tag":
                    hub.tags.append((f"{parts[2]}/{parts[3]}", json.loads(body)["tag"], parts[5]))
                    return self._json({})
                return self._error(404, "EntryNotFound", "unknown endpoint")

            def _json(self, obj):
                payload = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _serve(self, body: bool):
                hub.requests.append((self.command, self.path))
                parts = unquote(self.path.split("?")[0]).strip("/").split("/")
                if len(parts) < 5 or parts[2] != "resolve":
                    return self._error(404, "EntryNotFound", "not a resolve URL")
                org, name, _, revision, *file_parts = parts
                repo = hub.root / org / name
                if not repo.is_dir():
                    return self._error(404, "RepoNotFound", "Repository not found")
                path = repo.joinpath(*file_parts)
                if not path.is_file():
                    return self._error(404, "EntryNotFound", "Entry not found")
                data = path.read_bytes()
                etag = hashlib.sha256(data).hexdigest()
                wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
                status, content_range = 200, None
                if wanted and int(wanted[1]) < len(data):
                    start = int(wanted[1])
                    end = min(int(wanted[2]) if wanted[2] else len(data) - 1, len(data) - 1)
                    status, content_range = 206, f"bytes {start}-{end}/{len(data)}"
                    data = data[start:end + 1]
                self.send_response(status)
                self.send_header("X-Repo-Commit", hashlib.sha1(f"{org}/{name}@{revision}".encode()).hexdigest())
                self.send_header("ETag", f'"{etag}"')
                self.send_header("Accept-Ranges", "bytes")
                if content_range:
                    self.send_header("Content-Range", content_range)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if body:
                    self.wfile.write(data)
                    hub.bytes_sent[self.path.split("?")[0]] += len(data)

            def _error(self, status: int, code: str, message: str):
                payload = f'{{"error": "{message}"}}'.encode()
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("X-Error-Message", message)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def downloads(self, filename: str) -> int:
        return sum(1 for method, path in self.requests if method == "GET" and path.endswith("/" + filename))

    def sent(self, filename: str) -> int:
        """Body bytes sent for every file whose path ends with ``/filename``."""
        return sum(n for path, n in self.bytes_sent.items() if path.endswith("/" + filename))
