"""``faultfinder serve``: an ASGI app with ``/metrics``, a blackbox-compatible ``/probe``,
``/api/status`` and a dashboard.

- ``app.create_app`` builds the app; the monitor it reads is a ``MonitorView``.
- ``modules``: blackbox_exporter module names (``http_2xx``, ``tcp_connect`` …) → components.
- ``blackbox``: one probe's result → blackbox's metric names, plus ``probe_failure_info``.
- ``collector``: the monitor's view → ``faultfinder_*`` metrics for ``/metrics``.
- ``status``: the monitor's view → the ``/api/status`` document the dashboard draws.
- ``prometheus_api``: every agent's exported view, read back from Prometheus' HTTP API
  (``diagnose --prometheus``).
- ``rules``: a stack → Prometheus alerting and recording rules over those metrics.

This package's ``__init__`` imports nothing: the CLI imports ``serve.cli`` on every call.
"""
