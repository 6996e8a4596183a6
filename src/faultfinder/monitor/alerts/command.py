"""The command hook: run a program per alert, the JSON document on its stdin.

No shell: ``command`` is an argv list (a string is split like a shell would, without running
one). The environment adds ``FAULTFINDER_EVENT``, ``_STACK``, ``_COMPONENT``, ``_STATUS``,
``_CODE``, ``_OWNER`` and ``_SUMMARY`` for scripts that would rather not parse JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any

from faultfinder.config import AlertSpec
from faultfinder.errors import AlertError
from faultfinder.monitor.alerts import Alert
from faultfinder.monitor.alerts.payload import alert_document
from faultfinder.redact import Redactor


@dataclass
class CommandChannel:
    argv: list[str]
    timeout: float
    redactor: Redactor

    @property
    def name(self) -> str:
        return f"command {os.path.basename(self.argv[0])}"

    async def send(self, alert: Alert) -> None:
        document = alert_document(alert)
        text = self.redactor(json.dumps(document, ensure_ascii=False, sort_keys=True))
        environment = {
            **os.environ,
            "FAULTFINDER_EVENT": alert.event,
            "FAULTFINDER_STACK": alert.stack,
            "FAULTFINDER_COMPONENT": alert.component,
            "FAULTFINDER_STATUS": alert.change.new.value,
            "FAULTFINDER_CODE": alert.change.code or "",
            "FAULTFINDER_OWNER": alert.change.owner,
            "FAULTFINDER_SUMMARY": self.redactor(alert.change.summary),
        }
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=environment,
            )
        except OSError as error:
            raise AlertError(f"{self.name}: cannot run it: {error.strerror or error}") from None
        try:
            async with asyncio.timeout(self.timeout):
                _, errors = await process.communicate(text.encode())
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise AlertError(f"{self.name}: still running after {self.timeout:g}s") from None
        if process.returncode != 0:
            tail = errors.decode(errors="replace").strip()[-200:]
            raise AlertError(f"{self.name} exited {process.returncode}: {tail}")


def channel(spec: AlertSpec, client: Any, redactor: Redactor) -> CommandChannel:
    assert spec.command  # the stack file's validation requires it
    return CommandChannel(list(spec.command), spec.timeout, redactor)
