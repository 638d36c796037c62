"""Presentation: JSON documents of the contract, rich tables, graph exports. Never computes an analysis."""
