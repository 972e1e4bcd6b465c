"""Kiln's client distribution: the Python client, the `kiln` command line and the demo driver.

It speaks Kiln's v1 HTTP API with requests and click only, so a LIMS or an instrument PC installs
it without the service's scientific stack (``pip install ./shared/kiln_client``).

    from kiln_client import Client

    kiln = Client("http://kiln.lab:8000", token="...")
"""

from __future__ import annotations

from kiln_client.client import (
    AuthError,
    Client,
    ClientError,
    ConnectionFailed,
    KilnAPIError,
    StaleResult,
)

__all__ = ["AuthError", "Client", "ClientError", "ConnectionFailed", "KilnAPIError", "StaleResult"]
