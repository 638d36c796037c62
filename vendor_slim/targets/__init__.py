"""Targets: one package per kind of upstream tree (what it needs beyond the engine); see base.py."""
