"""Golden-path flows: ordered steps sharing variables, each step probed like a component.

``load`` checks a flow when the stack file is read; ``run`` climbs it (``probe/flow.py``).
"""
