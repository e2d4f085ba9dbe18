"""A change signed in by the web UI's cookie must come from the master's own pages.

Without the check, any site the user visited could POST to the master with the user's cookie
(a form or `fetch(..., {credentials: "include"})`): kill experiments, delete them. Browsers send
`Origin` on every POST/PUT/PATCH/DELETE; the web UI's own requests carry the master's origin.
Bearer-token callers (CLI, SDK, trials) are unaffected.
"""

from __future__ import annotations

from api_support import Api, seed

from trainyard.master.api.deps import COOKIE_NAME

OWN = "http://testserver"  # TestClient's Host


def _signed_in_by_cookie(api: Api) -> None:
    api.http.cookies.set(COOKIE_NAME, api.token)


def test_a_cross_origin_cookie_post_is_refused(api_any_db: Api) -> None:
    api = api_any_db
    seeded = seed(api.db)
    _signed_in_by_cookie(api)
    url = f"/api/v1/experiments/{seeded.experiment_id}/priority"
    response = api.http.post(url, json={"priority": 7}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403, response.text
    detail = response.json()["detail"]
    assert detail.startswith("cross-origin request refused") and "\n" not in detail
    assert api.get(f"/experiments/{seeded.experiment_id}").json()["priority"] != 7


def test_cookie_changes_need_an_origin_or_referer_of_this_server(api_any_db: Api) -> None:
    api = api_any_db
    _signed_in_by_cookie(api)
    body = {"config": "searcher: {name: single}"}
    refused = [
        {},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},
        {"Referer": "http://evil.example/testserver/"},
    ]
    for headers in refused:
        response = api.http.post("/api/v1/preview", json=body, headers=headers)
        assert response.status_code == 403, (headers, response.text)
    for headers in ({"Origin": OWN}, {"Referer": f"{OWN}/experiments/3"}):
        response = api.http.post("/api/v1/preview", json=body, headers=headers)
        assert response.status_code != 403, (headers, response.text)
    assert api.http.post("/api/v1/auth/logout", headers={"Origin": OWN}).status_code == 200


def test_cookie_reads_and_bearer_changes_need_no_origin(api_any_db: Api) -> None:
    api = api_any_db
    _signed_in_by_cookie(api)
    evil = {"Origin": "http://evil.example"}
    assert api.http.get("/api/v1/me", headers=evil).status_code == 200
    api.http.cookies.clear()
    body = {"config": "searcher: {name: single}"}
    response = api.http.post("/api/v1/preview", json=body, headers={**api.auth, **evil})
    assert response.status_code != 403, response.text


def test_a_browser_login_from_another_site_is_refused(api_any_db: Api) -> None:
    """Else another site could sign the user in under its own token (login CSRF)."""
    api = api_any_db
    body = {"token": api.token}
    evil = api.http.post("/api/v1/auth/login", json=body, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and COOKIE_NAME not in evil.cookies
    own = api.http.post("/api/v1/auth/login", json=body, headers={"Origin": OWN})
    assert own.status_code == 200 and COOKIE_NAME in own.cookies
    assert api.http.post("/api/v1/auth/login", json=body).status_code == 200  # a script
