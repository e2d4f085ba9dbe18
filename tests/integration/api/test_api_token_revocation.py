"""A revoked token, a deactivated user or an ended allocation is refused from the next request on.

The identity dependencies used to cache a token's owner for 5 s, so a revoked token kept working
that long. The revocation is done straight in the database, as another process (an admin tool, a
second master) would do it.
"""

from __future__ import annotations

from api_support import Api, seed

from trainyard.master.api.deps import COOKIE_NAME
from trainyard.master.db import allocations as allocations_repo
from trainyard.master.db import users as users_repo


def _new_user_token(api: Api, name: str) -> tuple[int, int, str]:
    with api.db.session() as session:
        user = users_repo.create_user(session, name)
        token = users_repo.create_token(session, user.id, description="test")
        token_id = users_repo.list_tokens(session, user.id)[0].id
        return user.id, token_id, token


def test_a_revoked_token_is_refused_at_once(api_any_db: Api) -> None:
    api = api_any_db
    _, token_id, token = _new_user_token(api, "alice")
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.http.get("/api/v1/me", headers=bearer).json()["username"] == "alice"
    with api.db.session() as session:
        users_repo.revoke_token(session, token_id)
    response = api.http.get("/api/v1/me", headers=bearer)
    assert response.status_code == 401, response.text
    assert response.json()["detail"].startswith("unknown token")


def test_a_deactivated_users_cookie_is_refused_at_once(api_any_db: Api) -> None:
    api = api_any_db
    user_id, _, token = _new_user_token(api, "bob")
    api.http.cookies.set(COOKIE_NAME, token)
    assert api.http.get("/api/v1/me").json()["username"] == "bob"
    with api.db.session() as session:
        users_repo.set_user_active(session, user_id, False)
    assert api.http.get("/api/v1/me").status_code == 401


def test_an_ended_allocations_token_is_refused_at_once(api_any_db: Api) -> None:
    api = api_any_db
    seeded = seed(api.db)
    bearer = {"Authorization": f"Bearer {seeded.allocation_token}"}
    url = f"/api/v1/trials/{seeded.trial_ids[0]}/metrics"
    body = {"group": "training", "reports": [{"steps": 1, "metrics": {"loss": 1.0}}]}
    assert api.http.post(url, json=body, headers=bearer).status_code == 200
    with api.db.session() as session:
        allocations_repo.finish_allocation(session, seeded.allocation_id, 0)
    body = {"group": "training", "reports": [{"steps": 2, "metrics": {"loss": 0.5}}]}
    response = api.http.post(url, json=body, headers=bearer)
    assert response.status_code == 401, response.text
    info = api.http.get(f"/api/v1/allocations/{seeded.allocation_id}/info", headers=bearer)
    assert info.status_code == 401
