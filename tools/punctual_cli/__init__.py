"""The ``punctual`` command's commands beyond ``punctual dev`` (tasks, runs, events, tenants), on punctual-client,
typer and rich. ``punctual.local.cli:main`` (the console script) imports it only for those commands; it is
part of the project's wheel, never of a Lambda asset."""
