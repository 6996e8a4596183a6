"""Renderers: a Diagnosis → JSON (CONTRACT §3) or a human view. No probing, no deciding."""
