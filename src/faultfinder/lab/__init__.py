"""The fault lab: the incident's stack in a network namespace, broken for real on demand.

``faultfinder lab up`` starts PostgreSQL, Redis, two dnsmasq resolvers, HAProxy, nginx and a
small reference service (``lab.app``) on loopback addresses inside one namespace; ``break``
applies a scenario from ``lab.scenarios``, ``fix`` undoes it, ``down`` removes everything.
Nothing here is imported by ``faultfinder diagnose``: the lab is a front end like any other.
"""
