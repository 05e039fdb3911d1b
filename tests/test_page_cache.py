"""The page and its config are built once per address (demos/page_cache.py), at the ASGI level with a stand-in app
that counts how often it is asked, writes the address it was asked at into its answer (as Gradio writes its root
URL into the config), and can answer an error or set a cookie."""

import asyncio

from demos.page_cache import PageCache


class Inner:
    def __init__(self, status=200, cookie=False):
        self.calls, self.status, self.cookie = 0, status, cookie

    async def __call__(self, scope, receive, send):
        self.calls += 1
        headers = dict(scope["headers"])
        body = b"root=" + headers.get(b"x-forwarded-host", headers[b"host"]) + b" call=%d" % self.calls
        extra = [(b"set-cookie", b"a=b")] if self.cookie else []
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})


def get(app, path="/config", method="GET", host=b"127.0.0.1:7860", **headers):
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "root_path": "", "scheme": "http",
             "headers": [(b"host", host), *((k.replace("_", "-").encode(), v) for k, v in headers.items())]}
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    asyncio.run(app(scope, receive, send))
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], body


def test_the_page_and_config_are_built_once_per_address():
    inner = Inner()
    cache = PageCache(inner)
    first = get(cache)
    assert get(cache) == first == (200, b"root=127.0.0.1:7860 call=1") and inner.calls == 1
    assert get(cache, "/") == (200, b"root=127.0.0.1:7860 call=2") and get(cache, "/")[1].endswith(b"call=2")
    # another address (a proxy in front of the app): its own answer, with its own root
    assert get(cache, x_forwarded_host=b"example.org") == (200, b"root=example.org call=3")
    assert get(cache, x_forwarded_host=b"example.org")[1].endswith(b"call=3")
    assert get(cache, host=b"10.0.0.2:7860")[1] == b"root=10.0.0.2:7860 call=4"
    assert inner.calls == 4 and cache.hits == 3


def test_other_requests_errors_and_cookies_are_never_kept():
    inner = Inner()
    cache = PageCache(inner)
    for _ in range(2):
        get(cache, "/gradio_api/info")
        get(cache, "/config", method="POST")
    assert inner.calls == 4
    failing = Inner(status=500)
    cache = PageCache(failing)
    assert get(cache)[0] == get(cache)[0] == 500
    assert failing.calls == 2
    cookie = Inner(cookie=True)
    cache = PageCache(cookie)
    get(cache), get(cache)
    assert cookie.calls == 2


def test_at_most_max_entries_are_kept():
    inner = Inner()
    cache = PageCache(inner, max_entries=2)
    for host in (b"a", b"b", b"c", b"a"):  # a was dropped when c came
        get(cache, host=host)
    assert inner.calls == 4
    get(cache, host=b"c")
    assert inner.calls == 4
