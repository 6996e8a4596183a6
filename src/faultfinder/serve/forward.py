"""A worker's answer for every path but ``/probe``: the owner process's, over its Unix socket.

Under ``serve --workers`` only the owner runs the monitor and holds the counters, so
``/metrics``, ``/api/status`` and the dashboard must come from it whatever worker accepted
the connection. One request per connection (``Connection: close``), parsed by h11.
"""

from __future__ import annotations

import asyncio

import h11
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

OWNER_TIMEOUT = 10.0  # the owner answers from memory: seconds would mean it is stuck
PASSED_ON = ("accept",)  # /metrics chooses the text format by it
KEPT = ("content-type", "cache-control", "etag", "last-modified")


class Forward:
    """The endpoint: the same method, path and query, sent on to the owner."""

    def __init__(self, owner: str) -> None:
        self.owner = owner  # the owner's Unix socket

    async def answer(self, request: Request) -> Response:
        target = request.scope["raw_path"] or b"/"
        if request.scope["query_string"]:
            target += b"?" + request.scope["query_string"]
        headers = [("Host", "faultfinder"), ("Connection", "close")]
        headers += [(name, request.headers[name]) for name in PASSED_ON if name in request.headers]
        try:
            async with asyncio.timeout(OWNER_TIMEOUT):
                status, answer, body = await self._exchange(request.method, target, headers)
        except (OSError, TimeoutError, h11.ProtocolError) as error:
            text = f"the owner process does not answer: {error or type(error).__name__}\n"
            return PlainTextResponse(text, status_code=503)
        kept = {name: value for name, value in answer if name in KEPT}
        return Response(body, status_code=status, headers=kept)

    async def _exchange(
        self, method: str, target: bytes, headers: list[tuple[str, str]]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        reader, writer = await asyncio.open_unix_connection(self.owner)
        try:
            connection = h11.Connection(h11.CLIENT)
            writer.write(
                connection.send(h11.Request(method=method, target=target, headers=headers))
                + connection.send(h11.EndOfMessage())
            )
            status, answer, body = 0, [], bytearray()
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    connection.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                    answer = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers]
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    return status, answer, bytes(body)
                elif event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                    raise h11.RemoteProtocolError("the owner closed the connection")
        finally:
            writer.close()
