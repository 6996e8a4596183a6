"""``faultfinder validate``: prove a fix by repeating the probes and judging them by criteria.

Every component is probed ``repetitions`` times at ``interval``, all components at once
(``repeat``); each repetition's results go through ``diagnose`` so a failing check carries the
graph's root cause (``rounds``); the checks are judged against the stack file's
``validation:`` section (``criteria``); ``runner.run_validation`` ties the three together.
Rendering lives in ``document``, ``view`` and ``faultfinder.report``; the command line in
``cli`` (the parser, imported by every ``faultfinder`` call, so this package imports nothing
up front) and ``commands``.
"""
