"""The generic engine: closure, link, emit, verify, publish, diff. Knows nothing of any one upstream;
it never imports a target (targets/) nor the application layer."""
