"""Identity: every user route needs a user token, every trial route its own allocation token."""

from __future__ import annotations

import re
import stat

from api_support import Api, seed

PUBLIC = {("POST", "/api/v1/auth/login")}


def _routes(api: Api) -> list[tuple[str, str]]:
    spec = api.http.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if path.startswith("/api/v1")
    ]


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_no_route_answers_without_a_token(api: Api) -> None:
    routes = _routes(api)
    assert len(routes) > 30
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        response = api.http.request(method, _fill(path))
        assert response.status_code == 401, (method, path, response.text)
        assert "\n" not in response.json()["detail"]


def test_unknown_token_is_401(api: Api) -> None:
    response = api.http.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("unknown token")


def test_allocation_token_cannot_reach_user_routes(api: Api) -> None:
    seeded = seed(api.db)
    bearer = {"Authorization": f"Bearer {seeded.allocation_token}"}
    response = api.http.get("/api/v1/experiments", headers=bearer)
    assert response.status_code == 403
    assert response.json() == {"detail": "an allocation token cannot call user routes"}


def test_user_token_cannot_reach_trial_routes(api: Api) -> None:
    seeded = seed(api.db)
    response = api.get(f"/allocations/{seeded.allocation_id}/info")
    assert response.status_code == 403


def test_allocation_token_opens_only_its_own_allocation_and_trial(api: Api) -> None:
    seeded = seed(api.db)
    own = {"Authorization": f"Bearer {seeded.allocation_token}"}
    other = {"Authorization": f"Bearer {seeded.other_allocation_token}"}
    aid, tid = seeded.allocation_id, seeded.trial_ids[0]
    assert api.http.get(f"/api/v1/allocations/{aid}/info", headers=own).status_code == 200
    assert api.http.get(f"/api/v1/allocations/{aid}/info", headers=other).status_code == 403
    op = f"/api/v1/trials/{tid}/searcher/operation"
    assert api.http.get(op, headers=own).status_code == 200
    denied = api.http.get(op, headers=other)
    assert denied.status_code == 403
    assert denied.json()["detail"] == f"this token does not open trial {tid}"


def test_login_sets_the_cookie_the_web_ui_uses(api: Api) -> None:
    bad = api.http.post("/api/v1/auth/login", json={"token": "wrong"})
    assert bad.status_code == 401
    good = api.http.post("/api/v1/auth/login", json={"token": api.token})
    assert good.status_code == 200
    assert good.json() == {"username": "admin", "admin": True}
    assert "trainyard_token" in good.headers["set-cookie"]
    assert "HttpOnly" in good.headers["set-cookie"]
    # The TestClient keeps the cookie: no header needed any more.
    assert api.http.get("/api/v1/me").json()["username"] == "admin"
    api.http.post("/api/v1/auth/logout")
    api.http.cookies.clear()
    assert api.http.get("/api/v1/me").status_code == 401


def test_admin_token_file_is_private_and_valid(api: Api) -> None:
    mode = stat.S_IMODE(api.settings.admin_token_path.stat().st_mode)
    assert mode == 0o600
    assert api.get("/me").json() == {"username": "admin", "admin": True}
