"""Kadi4Mat through the official `kadi-apy` (the `kadi` extra), imported only when connecting."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiln_client.kadi.errors import KadiError

PAGE_SIZE = 100  # the largest page Kadi4Mat serves


class Kadi:
    """One Kadi4Mat instance and one personal access token: the few calls the bridge makes."""

    def __init__(self, host: str, token: str, *, timeout: float = 60.0) -> None:
        try:
            from kadi_apy import KadiManager
        except ImportError as error:  # the optional extra is not installed
            raise KadiError(
                "the Kadi4Mat bridge needs kadi-apy: pip install 'kiln-client[kadi]'"
            ) from error
        self.host = host.rstrip("/").removesuffix("/api")
        self.manager = KadiManager(host=self.host, pat=token, timeout=timeout)
        try:
            me = self.request("GET", "/users/me", what="reading the token's user")
        except KadiError:
            self.close()
            raise
        self.user = me["identity"]["username"]

    def close(self) -> None:
        """Close the HTTP session."""
        self.manager.__exit__()

    def __enter__(self) -> Kadi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, endpoint: str, *, what: str, **options: Any) -> Any:
        """One API call's JSON; KadiError saying ``what`` failed and Kadi4Mat's reason."""
        try:
            response = self.manager.make_request(endpoint, method=method.lower(), **options)
        except Exception as error:  # niquests' connection errors, kadi-apy's own
            raise KadiError(f"{what}: cannot reach Kadi4Mat at {self.host} ({error})") from error
        if response.status_code == 401:
            raise KadiError(
                f"{what}: Kadi4Mat at {self.host} refused the token (401: "
                f"{_description(response)}); make a personal access token with the record "
                "and collection scopes"
            )
        if response.status_code >= 400:
            raise KadiError(
                f"{what}: Kadi4Mat answered {response.status_code}: {_description(response)}"
            )
        return response.json() if response.content else None

    def collection(self, reference: str) -> dict[str, Any]:
        """A collection by id (digits) or identifier; KadiError if there is none."""
        path = (
            f"/collections/{reference}"
            if reference.isdigit()
            else (f"/collections/identifier/{reference}")
        )
        try:
            found: dict[str, Any] = self.request("GET", path, what=f"collection {reference!r}")
        except KadiError as error:
            if "answered 404" in str(error):
                raise KadiError(
                    f"unknown Kadi4Mat collection {reference!r} at {self.host} (give its id or "
                    "its identifier)"
                ) from error
            raise
        return found

    def records(self, collection_id: int) -> Iterator[dict[str, Any]]:
        """Every record of a collection (with its extras), oldest first, page by page."""
        page = 1
        while True:
            answer = self.request(
                "GET",
                f"/collections/{collection_id}/records",
                what=f"listing the records of collection {collection_id}",
                params={"page": page, "per_page": PAGE_SIZE, "sort": "created_at"},
            )
            yield from answer["items"]
            if page >= answer["_pagination"]["total_pages"]:
                return
            page += 1

    def revision(self, record_id: int) -> int:
        """How many revisions the record has (1: as created)."""
        answer = self.request(
            "GET",
            f"/records/{record_id}/revisions",
            what=f"record {record_id}'s revisions",
            params={"per_page": 1},
        )
        return int(answer["_pagination"]["total_items"])

    def record_by_identifier(self, identifier: str) -> dict[str, Any] | None:
        """The record with this identifier, or None."""
        response = self.manager.make_request(f"/records/identifier/{identifier}", method="get")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise KadiError(f"record {identifier!r}: Kadi4Mat answered {response.status_code}")
        found: dict[str, Any] = response.json()
        return found

    def create_record(self, collection_id: int, **fields: Any) -> dict[str, Any]:
        """A new record with these fields, linked into the collection."""
        record: dict[str, Any] = self.request(
            "POST", "/records", what=f"creating record {fields.get('identifier')!r}", json=fields
        )
        self.request(
            "POST",
            f"/records/{record['id']}/collections",
            what=f"linking record {record['id']} into collection {collection_id}",
            json={"id": collection_id},
        )
        return record


def _description(response: Any) -> str:
    try:
        return str(response.json().get("description", response.text))
    except ValueError:
        return str(response.text)[:200]
