"""The page and its config, built once per address instead of once per student.

Opening the gallery asks the server for the page (``GET /``, with the app's whole config inside) or the config alone
(``GET /config``). With twelve tabs the config is 1.3 MB, and Gradio copies and rewrites it for every request: about
0.2 s of Python holding the interpreter's lock on a 2-core machine. When a class of 30 opens the page within a few
seconds, that is 6 s during which every other request waits (``bench/load_test.py --scenario classroom`` lists when
its slow requests were sent: nearly all of them at the class's arrival).

The config does not change once the app is running, so ``PageCache`` keeps the answer and sends it again to the next
request for the same page at the same address. What makes two answers differ is part of the key: the path and the
query (page, deep link), and what Gradio reads to write the app's own address into the config (the Host header, the
proxy's ``X-Forwarded-Host`` / ``-Proto``, Gradio's ``X-Gradio-Server``, the root path). Only plain 200 answers
without cookies are kept, at most ``MAX_ENTRIES`` of them (the least recently asked goes first; ~1.5 MB each, so
~50 MB at most: a share link's query makes an entry of its own, and a class opening the teacher's link shares one).
It assumes an app without login (a logged-in user's name is in the config), as this one is.
"""

import threading
from collections import OrderedDict

PATHS = ("/", "/config", "/config/")
KEY_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server")
MAX_ENTRIES = 32


class PageCache:
    """ASGI middleware: answers ``GET`` of ``PATHS`` from a cache of earlier answers (see the module docstring)."""

    def __init__(self, app, max_entries: int = MAX_ENTRIES):
        self.app = app
        self.max_entries = max_entries
        self._answers: OrderedDict = OrderedDict()  # key → (start message, body)
        self._lock = threading.Lock()
        self.hits = 0  # (tests)

    def _key(self, scope) -> tuple | None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in PATHS:
            return None
        headers = dict(scope.get("headers") or ())
        return (scope["path"], scope.get("query_string", b""), scope.get("root_path", ""), scope.get("scheme"),
                *(headers.get(name) for name in KEY_HEADERS))

    async def __call__(self, scope, receive, send):
        key = self._key(scope)
        if key is None:
            return await self.app(scope, receive, send)
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
                self.hits += 1
        if answer is not None:
            start, body = answer
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return

        start, chunks = None, []

        async def keep(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        cookie = start is not None and any(name.lower() == b"set-cookie" for name, _ in start["headers"])
        if start is None or start["status"] != 200 or cookie:
            return  # an error, or an answer that sets a cookie: not for everyone
        with self._lock:
            self._answers[key] = (start, b"".join(chunks))
            while len(self._answers) > self.max_entries:
                self._answers.popitem(last=False)
