"""Lambda entry points (api, executor, sweeper): event parsing and wiring only; the use cases live in service/."""
