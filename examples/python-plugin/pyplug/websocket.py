"""HandleWebSocket: one bidi stream per browser connection, an echo.

The host opens with CONNECT (the browser's request headers, plus `path` and `query`), which
we remember; DATA frames are echoed back as DATA; a PING is answered with a PONG echoing its
timestamp (the host PINGs every 30 s and disconnects a plugin that does not answer); CLOSE
(or ERROR) ends the session.
"""
import itertools
import threading

import domain_pb2

from . import log

Msg = domain_pb2.WebSocketMessage
_ids = itertools.count(1)


class Sessions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0
        self.total = 0

    def handle(self, request_iterator, context):
        session = next(_ids)
        connect_headers = {}
        with self._lock:
            self.open += 1
            self.total += 1
        try:
            for message in request_iterator:
                if message.type == Msg.CONNECT:
                    connect_headers = dict(message.headers)
                    log.info("WebSocket connected", session=session, path=connect_headers.get("path", ""), query=connect_headers.get("query", ""))
                elif message.type == Msg.DATA:
                    yield Msg(type=Msg.DATA, data=message.data, timestamp=message.timestamp)
                elif message.type == Msg.PING:
                    yield Msg(type=Msg.PONG, timestamp=message.timestamp)
                elif message.type == Msg.PONG:
                    pass
                elif message.type == Msg.CLOSE:
                    log.info("WebSocket closed", session=session, path=connect_headers.get("path", ""))
                    return
                elif message.type == Msg.ERROR:
                    log.warn("WebSocket error from the host", session=session, error=message.data.decode("utf-8", "replace"))
                    return
        finally:
            with self._lock:
                self.open -= 1
