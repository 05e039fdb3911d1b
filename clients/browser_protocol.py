"""A client that speaks the browser's protocol, to measure what a student's browser waits for.

``gradio_client`` polls its queue of server messages every 50 ms (``time.sleep(0.05)`` in
``gradio_client.utils.stream_sse_v1plus``), so each call it makes waits up to 50 ms after every message the
server sends (estimation, process_starts, process_completed): a call that takes the server 25 ms reads as
75 ms. Gradio's JavaScript client in the browser reacts to each message as it arrives. This class does what
the browser does, with httpx: upload files (``POST /gradio_api/upload``), join the queue
(``POST /gradio_api/queue/join``) and read the server-sent events (``GET /gradio_api/queue/data``) until
``process_completed`` for that event.

    client = BrowserProtocolClient("http://127.0.0.1:7860/")
    client.predict(0.1, 0.2, api_name="/vae_decode")       # same call as gradio_client.Client.predict
"""

import json
import time
import uuid
from pathlib import Path

import httpx

# A browser sends a request again when the kept-alive connection it reused was closed by the server just before
# (the server's "connection reset"); so does this client, once, for these errors only.
RETRIED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.ConnectError)


class BrowserProtocolClient:
    def __init__(self, url: str, timeout: float = 120, headers: dict | None = None, transport=None):
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=timeout, headers=headers, transport=transport)
        config = self.request("GET", self.url + "/config").json()
        self.config = config  # components and dependencies: how to find an event that has no api name
        self.fn_index = {"/" + d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}
        self.session_hash = uuid.uuid4().hex[:11]
        self.last_started_s = None  # how long the last ``call`` waited before it started

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        """One HTTP request, sent a second time if the connection failed under it (see ``RETRIED``)."""
        try:
            return self.http.request(method, url, **kwargs)
        except RETRIED:
            return self.http.request(method, url, **kwargs)

    def upload(self, file: dict) -> dict:
        """A ``gradio_client.handle_file`` dict → the server's copy, as the browser sends it."""
        path = Path(file["path"])
        with path.open("rb") as f:
            response = self.request("POST", self.url + "/gradio_api/upload", files={"files": (path.name, f.read())})
        response.raise_for_status()
        return {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}

    def _upload_files(self, value):
        if isinstance(value, dict) and value.get("meta", {}).get("_type") == "gradio.FileData":
            return self.upload(value)
        if isinstance(value, dict):
            return {k: self._upload_files(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._upload_files(v) for v in value]
        return value

    def join(self, fn_index: int, data: list) -> str:
        """Put one event in the app's queue, as the page does when a button is clicked; returns its event id."""
        body = {"data": data, "fn_index": fn_index, "session_hash": self.session_hash, "event_data": None,
                "trigger_id": None}
        joined = self.request("POST", self.url + "/gradio_api/queue/join", json=body)
        if joined.status_code != 200:  # refused (the queue is full, ...): the page shows the server's message
            detail = joined.json().get("detail") if "json" in joined.headers.get("content-type", "") else None
            raise RuntimeError(f"not admitted to the queue ({joined.status_code}): {detail or joined.text}")
        return joined.json()["event_id"]

    def completions(self, event_ids) -> dict[str, dict]:
        """Read this session's server-sent events until each of ``event_ids`` is completed: {event id: its
        ``process_completed`` message, with ``seconds``, the time from this call until it came, and ``started``,
        until the event started (left its queue)}."""
        start = time.perf_counter()
        waiting, done, started = set(event_ids), {}, {}
        with self.http.stream("GET", self.url + "/gradio_api/queue/data",
                              params={"session_hash": self.session_hash}) as r:
            for line in r.iter_lines():
                msg = json.loads(line[5:]) if line.startswith("data:") else {}
                if msg.get("msg") == "process_starts" and msg.get("event_id") in waiting:
                    started[msg["event_id"]] = time.perf_counter() - start
                if msg.get("msg") == "process_completed" and msg.get("event_id") in waiting:
                    done[msg["event_id"]] = {**msg, "seconds": time.perf_counter() - start,
                                             "started": started.get(msg["event_id"])}
                    waiting.discard(msg["event_id"])
                    if not waiting:
                        return done
        raise RuntimeError(f"the event stream ended before {len(waiting)} event(s) completed")

    def predict(self, *data, api_name: str):
        """Run one api like the browser does and return its output data (raises on an error message). Inputs left
        out at the end take their component's value on a fresh page (the control's default), as the page sends."""
        fn_index = self.fn_index[api_name]
        dependency = next(d for d in self.config["dependencies"] if d["id"] == fn_index)
        components = {c["id"]: c for c in self.config["components"]}
        defaults = [components[i]["props"].get("value") for i in dependency["inputs"][len(data):]]
        return self.call(fn_index, [self._upload_files(d) for d in data] + defaults, api_name)

    def call(self, fn_index: int, data: list, name: str = ""):
        """Run one queued event (a button's, a timer's: any dependency of the page, api name or not) in this page's
        session, so that its ``gr.State`` is this page's; returns its output data."""
        event_id = self.join(fn_index, data)
        msg = self.completions([event_id])[event_id]
        self.last_started_s = msg["started"]  # how long it waited in its queue
        if not msg.get("success"):
            raise RuntimeError(f"{name or fn_index} failed: {msg.get('output')}")
        return msg["output"]["data"]

    def call_unqueued(self, fn_index: int, data: list):
        """Run an event declared with ``queue=False`` (the page posts those directly); returns its output data."""
        body = {"data": data, "fn_index": fn_index, "session_hash": self.session_hash, "event_data": None,
                "trigger_id": None}
        response = self.request("POST", self.url + "/gradio_api/run/predict", json=body)
        response.raise_for_status()
        return response.json()["data"]
