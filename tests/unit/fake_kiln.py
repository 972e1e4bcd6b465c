"""A Kiln server played by a requests adapter: scripted replies, every request kept (unit tests)."""

from __future__ import annotations

import json
from typing import Any

import requests
from requests.adapters import BaseAdapter

from kiln_client.client import Client


class FakeServer(BaseAdapter):
    """Answers each request with the next scripted reply; keeps every request it saw."""

    def __init__(self, *replies: Any) -> None:
        super().__init__()
        self.replies = list(replies)
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.seen.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        status, body, headers = reply
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 503: "Service Unavailable"}.get(status, "Error")
        response.url = request.url or ""
        response.request = request
        if isinstance(body, str):
            response._content = body.encode()
        else:
            response._content = json.dumps(body).encode() if body is not None else b""
        response.headers.update(headers or {})
        return response

    def close(self) -> None:
        pass


def client_with(server: FakeServer, **options: Any) -> tuple[Client, list[float]]:
    session = requests.Session()
    session.mount("http://", server)
    client = Client("http://kiln.test", "secret-token", session=session, **options)
    slept: list[float] = []
    client.sleep = slept.append
    return client, slept
