"""Pipeline stages: each takes and returns model objects and never imports another stage or the CLI."""
