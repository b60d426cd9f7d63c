"""`/docs`: the API's operations as one self-contained HTML page, built from the OpenAPI document.

FastAPI's default Swagger UI and ReDoc load their JavaScript and CSS from a CDN, and no installed
package ships those assets, so on a machine without internet (the demo, a school's network)
they show a blank page. This page needs nothing from outside: it lists every operation with its
method, path, summary, description, parameters and responses, links the machine-readable
`/openapi.json`, and carries its own small stylesheet. It is not interactive: try an operation
with curl and `Authorization: Bearer <key>`.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

METHODS = ("get", "post", "put", "patch", "delete")

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2630;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:1.5rem}
h1{margin:.2rem 0}h2{margin-top:2rem;border-bottom:2px solid #d0d7de;text-transform:capitalize}
.op{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:.6rem 0;padding:.6rem .9rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;color:#fff;border-radius:4px;
text-align:center;padding:.1rem .3rem;margin-right:.5rem;background:#0969da}
.path{font-family:ui-monospace,monospace;font-weight:600}
table{border-collapse:collapse;margin:.4rem 0;font-size:.92rem}
td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
.muted{color:#57606a}code{background:#eef1f4;padding:0 .2rem;border-radius:3px}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_e(part.strip())}</p>" for part in text.split("\n\n") if part.strip())


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_schema_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items', {}))}"
    return str(schema.get("type", "object"))


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p.get('in', ''))}</td>"
        f"<td>{'yes' if p.get('required') else 'no'}</td>"
        f"<td>{_e(_schema_name(p.get('schema', {})))}</td>"
        f"<td>{_e(p.get('description', ''))}</td></tr>"
        for p in op.get("parameters", [])
    )
    params = (
        "<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th>"
        f"<th>meaning</th></tr>{rows}</table>"
        if rows
        else ""
    )
    responses = ", ".join(
        f"<code>{_e(code)}</code> {_e(r.get('description', ''))}"
        for code, r in sorted(op.get("responses", {}).items())
    )
    return (
        f'<div class="op" id="{_e(op.get("operationId", path))}">'
        f'<span class="m">{method.upper()}</span><span class="path">{_e(path)}</span> '
        f"<strong>{_e(op.get('summary', ''))}</strong>"
        f"{_paragraphs(op.get('description', ''))}{params}"
        f'<div class="muted">responses: {responses}</div></div>'
    )


def render_docs(document: dict[str, Any]) -> str:
    """The documentation page of an OpenAPI document (pure: document in, HTML text out)."""
    info = document.get("info", {})
    by_tag: dict[str, list[str]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                tag = (op.get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append(_operation(method, path, op))
    sections = "".join(
        f'<h2 id="tag-{_e(tag)}">{_e(tag)}</h2>{"".join(ops)}' for tag, ops in by_tag.items()
    )
    index = " · ".join(f'<a href="#tag-{_e(tag)}">{_e(tag)}</a>' for tag in by_tag)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(info.get('title', 'API'))} docs</title><style>{STYLE}</style></head><body>"
        f"<main><h1>{_e(info.get('title', 'API'))} "
        f'<span class="muted">{_e(info.get("version", ""))}</span></h1>'
        f"{_paragraphs(info.get('description', ''))}"
        '<p>Machine-readable description: <a href="/openapi.json">/openapi.json</a>. '
        "This page works without internet; it is a reference, not an interactive console.</p>"
        f"<p>{index}</p>{sections}</main></body></html>"
    )


# A dry floor tile: browsers ask every site for /favicon.ico, and a 404 there is a console error.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#0969da"/>'
    '<path d="M4 11h8M4 8h8M4 5h8" stroke="#fff" stroke-width="1.5"/></svg>'
)


def install_docs(app: FastAPI, path: str = "/docs") -> None:
    """Serve the offline documentation page at `path` (create the app with docs_url=None),
    and a small icon at /favicon.ico."""

    @app.get(path, include_in_schema=False, response_class=HTMLResponse)
    async def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(app.openapi()))

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(FAVICON, media_type="image/svg+xml")
