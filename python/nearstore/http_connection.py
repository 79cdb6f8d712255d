"""One keep-alive HTTP/1.1 connection to a `nearstore serve` server, for nearstore.connect.

A request goes out in one send (headers and body together), and the response is parsed by
httptools (the llhttp parser, as uvicorn uses). Against the standard library's http.client,
which sends headers and body apart and parses response headers with the email package, this
took a remote search from 0.52 to 0.38 ms on a 2-core VM (bench/server/run.py; in-process:
0.07 ms), which is most of what the client spends.

Not thread-safe: one connection serves one thread (remote._Http keeps one per thread).
"""

from __future__ import annotations

import socket
import ssl

import httptools


class ConnectionLost(Exception):
    """The server closed the connection, or it broke, before the whole response came: on a
    reused connection before any byte came, the request was not served and may be sent again
    (`before_response`)."""

    def __init__(self, message: str, before_response: bool) -> None:
        super().__init__(message)
        self.before_response = before_response


class HttpConnection:
    def __init__(self, host: str, port: int, timeout: float,
                 tls: ssl.SSLContext | None) -> None:
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            # The request is one send; the flag only keeps a short one from waiting on an ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self._parser = httptools.HttpResponseParser(self)
        self._body: list[bytes] = []
        self._complete = False
        self._status = 0
        self._keep_alive = False
        self.served = 0  # responses read on this connection

    # httptools' callbacks.
    def on_body(self, data: bytes) -> None:
        self._body.append(data)

    def on_message_complete(self) -> None:
        self._complete = True
        # Read here: once the message is complete the parser starts on the next one.
        self._status = self._parser.get_status_code()
        self._keep_alive = self._parser.should_keep_alive()

    def request(self, method: str, path: str, body: bytes | None,
                headers: bytes) -> tuple[int, bytes]:
        """Sends a request and reads its response: (status, body). `headers` are the encoded
        header lines ("Name: value\\r\\n" each), checked by the caller to hold no line breaks
        of their own. Raises ConnectionLost, or OSError (a timeout among them)."""
        content = body or b""
        head = (f"{method} {path} HTTP/1.1\r\n".encode() + self._host_header + headers +
                b"Content-Length: %d\r\n\r\n" % len(content))
        self._body = []
        self._complete = False
        got_any = False
        try:
            self._sock.sendall(head + content)
            while not self._complete:
                data = self._sock.recv(65536)
                if not data:
                    raise ConnectionLost("the server closed the connection",
                                         before_response=not got_any)
                got_any = True
                self._parser.feed_data(data)
        except BaseException as e:
            self.close()  # its state is unknown: never used again
            if isinstance(e, (BrokenPipeError, ConnectionResetError)):
                raise ConnectionLost(str(e), before_response=not got_any) from None
            if isinstance(e, httptools.HttpParserError):
                raise ConnectionLost(f"malformed response: {e}", before_response=False) from None
            raise
        self.served += 1
        if not self._keep_alive:
            self.close()
        return self._status, b"".join(self._body)

    @property
    def closed(self) -> bool:
        return self._sock is None

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None  # type: ignore[assignment]
