"""Server-rendered pages (HTML, usable without JavaScript): `router` is included by the app.

Pages: ask (home) and articles, plan builder and plan permalink (with PDF and .ics),
content browsers (glossary, regimens, statements), and the editorial workflow.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from allguide.web import errors
from allguide.web.deps import current_user
from allguide.web.errors import NotFound, request_id_of
from allguide.web.pages import ask, browse, editor, plans
from allguide.web.pages.templating import STATIC_DIR, render

STATIC_FILES = {"allguide.css": "text/css; charset=utf-8"}

static_router = APIRouter(include_in_schema=False)


@static_router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The stylesheet (a fixed allow-list: no path from the URL reaches the file system)."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound(f"no static file '{name}'")
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )


# Every page knows who is signed in (for the header's "Signed in as … / Sign out").
_pages = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
_pages.include_router(ask.router)
_pages.include_router(plans.router)
_pages.include_router(browse.router)
_pages.include_router(editor.router)

router = APIRouter(include_in_schema=False)
router.include_router(static_router)
router.include_router(_pages)


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    """The site's HTML error page (registered with `web.errors` for browser requests)."""
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": title,
            "message": message,
            "request_id": request_id_of(request),
        },
        status_code=status,
    )


if error_page not in errors.html_error_renderer:
    errors.html_error_renderer.append(error_page)

__all__ = ["router"]
