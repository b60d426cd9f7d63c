"""The offline /docs page: built from the OpenAPI document, nothing loaded from elsewhere."""

from __future__ import annotations

from api.docs_page import render_docs


def test_every_operation_is_listed_with_its_parameters_and_text_is_escaped() -> None:
    document = {
        "info": {"title": "T <api>", "version": "1", "description": "First.\n\nSecond."},
        "paths": {
            "/things/{id}": {
                "get": {
                    "tags": ["things"],
                    "summary": "One thing",
                    "operationId": "get_thing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "ok"}, "404": {"description": "none"}},
                },
                "delete": {"summary": "Remove", "responses": {}},
            }
        },
    }
    page = render_docs(document)
    assert "T &lt;api&gt;" in page and "<api>" not in page
    assert page.count('class="op"') == 2
    assert "/things/{id}" in page and "<code>id</code>" in page and "404" in page
    assert "<p>First.</p><p>Second.</p>" in page
    assert "<script" not in page and "http" not in page.replace('href="/openapi.json"', "")
