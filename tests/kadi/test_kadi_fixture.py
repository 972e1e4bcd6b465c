"""The real Kadi4Mat of the bridge's tests answers its token, and refuses a wrong one."""

from __future__ import annotations

import pytest
import requests
from support.kadi import KadiServer

pytestmark = [pytest.mark.slow, pytest.mark.kadi, pytest.mark.timeout(2400)]


def test_the_token_reads_the_user_and_a_wrong_one_is_refused(kadi: KadiServer) -> None:
    me = requests.get(
        f"{kadi.url}/api/users/me", headers={"Authorization": f"Bearer {kadi.token}"}, timeout=30
    )
    assert me.status_code == 200, me.text
    assert me.json()["identity"]["username"] == "kiln-test"
    wrong = requests.get(
        f"{kadi.url}/api/users/me", headers={"Authorization": "Bearer pat_wrong"}, timeout=30
    )
    assert wrong.status_code == 401
