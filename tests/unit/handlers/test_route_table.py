"""handlers/route_table.py: which methods a path answers."""

from __future__ import annotations

import pytest
from punctual.handlers.route_table import RouteTable


@pytest.fixture
def table() -> RouteTable:
    routes = RouteTable()
    for method, rule in [
        ("GET", "/tasks"),
        ("POST", "/tasks"),
        ("GET", "/tasks/<task_id>"),
        ("PATCH", "/tasks/<task_id>"),
        ("DELETE", "/tasks/<task_id>"),
        ("POST", "/tasks/bulk-delete"),
        ("GET", "/tasks/<task_id>/runs"),
        ("GET", "/health"),
    ]:
        routes.add(method, rule)
    return routes


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/tasks", {"GET", "POST"}),
        ("/tasks/", {"GET", "POST"}),
        ("/tasks/abc", {"GET", "PATCH", "DELETE"}),
        ('/tasks/a"b', {"GET", "PATCH", "DELETE"}),  # the shape matches; the id is the service's to judge
        ("/tasks/bulk-delete", {"POST"}),  # the literal route wins over <task_id>
        ("/tasks/abc/runs", {"GET"}),
        ("/tasks//", set()),
        ("/tasks//runs", set()),
        ("//tasks", set()),
        ("/", set()),
        ("", set()),
        ("/health/x", set()),
        ("/nowhere", set()),
    ],
)
def test_allowed_methods(table: RouteTable, path: str, allowed: set[str]) -> None:
    assert table.allowed(path) == allowed
