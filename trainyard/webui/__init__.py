"""The web UI, served by the master: server-rendered pages under `/ui`, static files (plotly.js
from the installed `plotly` package, no CDN), and the UI's own read routes under `/api/v1/webui`.

The master's `create_app` calls `install(app)`; nothing else is needed:

    app = create_app(settings)   # pages at /ui/experiments, /ui/cluster, ...
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from trainyard.webui import data_api, edit_api, live_api, pages, rungs_api, table_api

__all__ = ["PLOTLY_JS", "install"]

_STATIC = Path(__file__).parent / "static"


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


PLOTLY_JS = _plotly_js()
"""plotly.min.js inside the installed `plotly` wheel; served at `/ui/static/plotly.min.js`."""


def install(app: FastAPI) -> None:
    """Add the pages, the UI's read routes and the static files to the master's `app`."""

    @app.get("/ui/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return FileResponse(
            PLOTLY_JS,
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(
            _STATIC / "favicon.svg",
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/ui/experiments", status_code=303)

    app.include_router(data_api.router)
    app.include_router(live_api.router)
    app.include_router(table_api.router)
    app.include_router(edit_api.router)
    app.include_router(rungs_api.router)
    app.include_router(pages.router)
    app.mount("/ui/static", StaticFiles(directory=_STATIC), name="webui-static")
