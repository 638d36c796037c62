"""Adapters: the only places that talk to external tools (libclang, subprocesses, git)."""
