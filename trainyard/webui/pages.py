"""HTML pages of the web UI under `/ui` (server-rendered Jinja2; tables and charts are filled by
the page's JavaScript from the REST API).

Every page but `/ui/login` needs the `trainyard_token` cookie; without a valid one the browser
is sent to `/ui/login?next=<page>`. `GET /ui/login?token=<token>` signs in at once (what the CLI
opens for an embedded master); the login form posts the token to `POST /api/v1/auth/login`.
A missing experiment or trial renders a 404 page that says so.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import trainyard
from trainyard.errors import NotFoundError
from trainyard.master.api import _reads
from trainyard.master.api.deps import COOKIE_NAME, ApiContext, Identity
from trainyard.master.api.experiments import load_experiment
from trainyard.master.api.schemas import trial_out
from trainyard.webui import data_api
from trainyard.webui._progress import length_unit

__all__ = ["router", "templates"]

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["version"] = trainyard.__version__
templates.env.filters["when"] = lambda t: (
    "" if t is None else dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")
)
router = APIRouter(prefix="/ui", include_in_schema=False)


def _ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def _user(request: Request) -> Identity | None:
    token = request.cookies.get(COOKIE_NAME)
    return _ctx(request).user(token) if token else None


def _page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    user = _user(request)
    if user is None:
        target = quote(
            str(request.url.path) + ("?" + request.url.query if request.url.query else "")
        )
        return RedirectResponse(f"/ui/login?next={target}", status_code=303)
    return templates.TemplateResponse(request, name, {"user": user, **context}, status_code=status)


def _missing(request: Request, err: NotFoundError) -> Response:
    return _page(request, "error.html", status=404, message=str(err), title="Not found")


@router.get("/login", response_class=HTMLResponse)
def login(request: Request, next: str = "/ui/experiments", token: str | None = None) -> Response:
    """The sign-in form; with `token`, sign in straight away and go to `next`."""
    safe_next = next if next.startswith("/") and not next.startswith("//") else "/ui/experiments"
    if token is not None:
        if _ctx(request).user(token) is None:
            return templates.TemplateResponse(
                request, "login.html", {"next": safe_next, "error": "unknown token"}, 401
            )
        response = RedirectResponse(safe_next, status_code=303)
        response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="lax")
        return response
    return templates.TemplateResponse(request, "login.html", {"next": safe_next, "error": None})


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/ui/experiments", status_code=303)


@router.get("/experiments", response_class=HTMLResponse)
def experiments(request: Request) -> Response:
    return _page(request, "experiments.html", title="Experiments")


def _experiment_page(request: Request, experiment_id: int, name: str, tab: str) -> Response:
    try:
        exp = load_experiment(_ctx(request), experiment_id, with_config=tab == "overview")
    except NotFoundError as err:
        return _missing(request, err)
    with _ctx(request).db.session(read_only=True) as session:
        row = _reads.get_experiment(session, experiment_id)
        submitted, unit = row.config_yaml, length_unit(row.config or {})
    config_yaml = ""
    if exp.config is not None:
        config_yaml = submitted.strip() or yaml.safe_dump(exp.config, sort_keys=False)
    if _user(request) is not None:
        # Start the HPO tab's importance fit (and scikit-learn's ~2 s first import) from any
        # tab of the experiment, while the browser paints: the HPO tab's request then finds it
        # done (a cached fit costs one small query).
        threading.Thread(target=_warm_importance, args=(_ctx(request), exp.id), daemon=True).start()
    return _page(
        request,
        name,
        title=f"Experiment {exp.id} · {exp.name}",
        exp=exp,
        tab=tab,
        config_yaml=config_yaml,
        unit=unit,
    )


@router.get("/experiments/{experiment_id}", response_class=HTMLResponse)
def experiment(request: Request, experiment_id: int) -> Response:
    return _experiment_page(request, experiment_id, "experiment.html", "overview")


@router.get("/experiments/{experiment_id}/trials", response_class=HTMLResponse)
def trials(request: Request, experiment_id: int) -> Response:
    return _experiment_page(request, experiment_id, "trials.html", "trials")


@router.get("/experiments/{experiment_id}/hpo", response_class=HTMLResponse)
def hpo(request: Request, experiment_id: int) -> Response:
    return _experiment_page(request, experiment_id, "hpo.html", "hpo")


def _warm_importance(ctx: ApiContext, experiment_id: int) -> None:
    try:
        data_api.importance_of(ctx, experiment_id)
    except Exception:  # the page's own request reports any failure; nothing to do here
        return


@router.get("/trials/{trial_id}", response_class=HTMLResponse)
def trial(request: Request, trial_id: int) -> Response:
    try:
        with _ctx(request).db.session(read_only=True) as session:
            row = trial_out(_reads.get_trial(session, trial_id))
            exp = _reads.get_experiment(session, row.experiment_id)
            exp_name, metric = exp.name, exp.searcher_metric
    except NotFoundError as err:
        return _missing(request, err)
    return _page(
        request,
        "trial.html",
        title=f"Trial {row.id}",
        trial=row,
        exp_name=exp_name,
        metric=metric,
    )


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, trials: str = "") -> Response:
    return _page(request, "compare.html", title="Compare trials", trial_ids=trials)


@router.get("/cluster", response_class=HTMLResponse)
def cluster(request: Request) -> Response:
    return _page(request, "cluster.html", title="Cluster")
