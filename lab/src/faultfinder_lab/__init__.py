"""The fault lab: the incident's stack in a network namespace, broken for real on demand.

``faultfinder lab up`` starts PostgreSQL, Redis, two dnsmasq resolvers, HAProxy, nginx and a
small reference service (``faultfinder_lab.app``) on loopback addresses inside one namespace;
``break`` applies a scenario from ``faultfinder_lab.scenarios``, ``fix`` undoes it, ``down``
removes everything. A package of its own (``lab/pyproject.toml``), so the runtime library does
not carry it: it plugs its command into ``faultfinder`` through the ``faultfinder.commands``
entry point, and uses faultfinder only as any user would (the CLI, ``faultfinder.health``).
"""
