"""Renderers: a Diagnosis → JSON (docs/contract.md §3) or a human view. No probing, no deciding."""
