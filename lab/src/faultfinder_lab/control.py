"""One lab: bring it up, break it with a scenario, fix it, report on it, tear it down.

State lives in the lab's state directory (``/run/faultfinder-lab/NAME`` unless given), so each
``faultfinder lab …`` command picks up where the last one left off. Diagnosis always runs
``faultfinder diagnose`` itself, inside the namespace: the lab is a front end, not a prober.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from faultfinder.errors import UsageError
from faultfinder_lab import namespace, processes
from faultfinder_lab.certificates import write_certificates
from faultfinder_lab.environment import check_environment
from faultfinder_lab.errors import LabError, LabUnavailable
from faultfinder_lab.proxies import haproxy_servers
from faultfinder_lab.scenarios import SCENARIOS
from faultfinder_lab.services import BATCHES, SERVICES, Settings, prepare_postgres
from faultfinder_lab.state import LabState
from faultfinder_lab.topology import (
    APP_RESOLVER,
    DEFAULT_NAME,
    RESOLVER,
    STATE_ROOT,
    Paths,
    stack_document,
)

T = TypeVar("T")

# Both resolvers give up fast: a dead one must show as a failure, not as a long wait.
RESOLV_OPTIONS = "options timeout:1 attempts:1\n"
HAPROXY_SERVERS = ("api/app", "websocket/app")


class Lab:
    """One lab, by name; its namespace has the same name."""

    def __init__(
        self,
        name: str = DEFAULT_NAME,
        state_dir: Path | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.paths = Paths(state_dir or STATE_ROOT / name)
        self.say = say or (lambda line: None)
        self.state: LabState | None = None
        self.reload()

    def reload(self) -> None:
        """Read the state file again (another command may have changed the lab)."""
        self.state = LabState.load(self.paths.state) if self.paths.state.exists() else None

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def is_up(self) -> bool:
        return self.state is not None and namespace.exists(self.name)

    def up(self) -> bool:
        """Start the lab; False when it was already up (then nothing changes)."""
        check_environment()
        if self.is_up:
            return False
        self.down()  # leftovers of a lab that died half-way
        started = time.monotonic()
        self.paths.root.mkdir(parents=True, exist_ok=True)
        # The postgres user must pass through to its data directory below.
        self.paths.root.chmod(self.paths.root.stat().st_mode | 0o111)
        for directory in (self.paths.logs, self.paths.config):
            directory.mkdir(exist_ok=True)
        self.state = LabState(
            name=self.name,
            root=str(self.paths.root),
            postgres_password=secrets.token_urlsafe(12),
            redis_password=secrets.token_urlsafe(12),
            cache_password=secrets.token_urlsafe(12),
            demo_password=secrets.token_urlsafe(12),
            token_key=secrets.token_urlsafe(32),
        )
        self._save()
        try:
            self._create_namespace()
            self._set_up_files()
            self._start_services()
            self.paths.stack.write_text(
                stack_document(
                    self.name,
                    self.paths,
                    self.state.postgres_password,
                    self.state.redis_password,
                    cache_password=self.state.cache_password,
                    demo_password=self.state.demo_password,
                )
            )
            self.paths.stack.chmod(0o600)
        except BaseException:
            self.down()
            raise
        self.say(f"lab {self.name} is up in {time.monotonic() - started:.1f}s")
        return True

    def down(self) -> None:
        """Stop every process, delete the namespace, /etc/netns/NAME and the state directory."""
        if self.state is not None:
            for label in reversed(list(self.state.processes)):  # last started, first stopped
                self.stop(label)
        if namespace.exists(self.name):
            for pid in namespace.pids(self.name):  # only ever processes this lab started
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
        namespace.delete(self.name)
        self._remove_files()
        self.state = None

    def _remove_files(self) -> None:
        """Remove what the lab created, never anything else a --state-dir may hold."""
        for path in self.paths.created():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.paths.root.rmdir()  # only if it is now empty

    def _create_namespace(self) -> None:
        try:
            namespace.create(self.name, f"nameserver {RESOLVER}\n{RESOLV_OPTIONS}")
        except subprocess.CalledProcessError as error:
            reason = (error.stderr or "").strip().splitlines()
            raise LabUnavailable(
                f"cannot create the network namespace {self.name} "
                f"({reason[-1] if reason else error}); run on a Linux host, "
                "or in a container started with --privileged"
            ) from None

    def _set_up_files(self) -> None:
        self.paths.app_resolv.write_text(f"nameserver {APP_RESOLVER}\n{RESOLV_OPTIONS}")
        self.set_app_mode("ok")
        write_certificates(self.paths.certificates)
        prepare_postgres(self.settings)

    def _start_services(self) -> None:
        for batch in BATCHES:
            for service in batch:
                self.start(service, wait=False)
            for service in batch:
                self.wait_ready(service)
        self.wait_haproxy("UP")

    # --- scenarios ------------------------------------------------------------------------

    def break_scenario(self, name: str) -> None:
        if name not in SCENARIOS:
            raise UsageError(f"no scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
        state = self.require_up()
        if state.scenario is not None:
            self.fix()
        state.scenario = name  # recorded first, so a half-applied break can still be fixed
        self._save()
        SCENARIOS[name].breaks(self)
        self._save()

    def fix(self, *, verify: bool = True) -> str | None:
        """Undo the current scenario, then wait until faultfinder sees the lab healthy."""
        state = self.require_up()
        name = state.scenario
        if name is not None:
            SCENARIOS[name].fixes(self)
            state.scenario = None
            self._save()
        if verify:
            self.wait_healthy()
        return name

    def wait_healthy(self, timeout: float = 45.0) -> None:
        self.wait_haproxy("UP", timeout)
        deadline = time.monotonic() + timeout
        while True:
            document = self.diagnosis()
            if document.get("status") == "healthy":
                return
            if time.monotonic() > deadline:
                summary = document.get("verdict", {}).get("summary", "no diagnosis")
                raise LabError(f"the lab did not become healthy within {timeout:g}s: {summary}")
            time.sleep(0.2)

    # --- diagnosis, from inside the namespace ---------------------------------------------

    @property
    def namespace_prefix(self) -> list[str]:
        """``ip netns exec NAME``: what runs a command inside the lab."""
        return namespace.prefix(self.name)

    def diagnose_command(self, *arguments: str) -> list[str]:
        return [
            *self.namespace_prefix,
            sys.executable,
            "-m",
            "faultfinder",
            "diagnose",
            str(self.paths.stack),
            *arguments,
        ]

    def diagnosis(self) -> dict[str, Any]:
        """``faultfinder diagnose --json`` run inside the lab, parsed."""
        self.require_up()
        done = subprocess.run(
            self.diagnose_command("--json"), capture_output=True, text=True, timeout=60
        )
        try:
            document: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise LabError(
                f"faultfinder diagnose gave no JSON (exit {done.returncode}): "
                f"{done.stderr.strip()[-300:]}"
            ) from None
        return document

    # --- services, for scenarios ----------------------------------------------------------

    @property
    def settings(self) -> Settings:
        state = self.require_state()
        return Settings(
            namespace=self.name,
            paths=self.paths,
            postgres_password=state.postgres_password,
            redis_password=state.redis_password,
            cache_password=state.cache_password,
            demo_password=state.demo_password,
            token_key=state.token_key,
            options=dict(state.options),
        )

    def start(self, service: str, *, wait: bool = True) -> None:
        definition = SERVICES[service]
        settings = self.settings
        argv = [*namespace.prefix(self.name), *definition.command(settings)]
        self.spawn(service, argv, definition.env(settings))
        if wait:
            self.wait_ready(service)

    def spawn(self, label: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        """Start a process (a service, or a scenario's helper) and remember it as ``label``."""
        state = self.require_state()
        state.processes[label] = processes.spawn(argv, log=self.paths.log(label), env=env)
        self._save()

    def stop(self, label: str) -> None:
        state = self.require_state()
        process = state.processes.pop(label, None)
        if process is not None:
            definition = SERVICES.get(label)
            processes.stop(process, definition.stop_signal if definition else signal.SIGTERM)
            self._save()

    def restart(self, service: str) -> None:
        self.stop(service)
        self.start(service)

    def signal(self, label: str, signum: int) -> None:
        processes.send(self.require_state().processes[label], signum)

    def paused(self, label: str) -> bool:
        state = self.require_state()
        return label in state.processes and processes.paused(state.processes[label])

    def running(self, label: str) -> bool:
        state = self.require_state()
        return label in state.processes and processes.alive(state.processes[label])

    def wait_ready(self, service: str, timeout: float = 20.0) -> None:
        definition = SERVICES[service]
        settings = self.settings
        self.wait(
            lambda: self._ready_or_exited(service, lambda: definition.ready(settings)),
            f"{service} to become ready",
            timeout,
        )

    def _ready_or_exited(self, label: str, ready: Callable[[], bool]) -> bool:
        if ready():
            return True
        if not self.running(label):
            raise LabError(f"{label} exited during start-up: {self.log_tail(label)}")
        return False

    def wait_exited(self, label: str, timeout: float = 20.0) -> None:
        self.wait(lambda: not self.running(label), f"{label} to exit", timeout)

    def log_tail(self, label: str) -> str:
        path = self.paths.log(label)
        lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
        return lines[-1] if lines else "(no output)"

    def set_option(self, key: str, value: str | None) -> None:
        options = self.require_state().options
        if value is None:
            options.pop(key, None)
        else:
            options[key] = value
        self._save()

    def set_app_mode(self, mode: str) -> None:
        self.paths.app_mode.write_text(mode + "\n")

    def run(self, argv: Sequence[str]) -> None:
        """Run a command inside the namespace (iptables, say); a failure is a LabError."""
        done = namespace.run(self.name, argv, check=False)
        if done.returncode != 0:
            raise LabError(f"{' '.join(argv)} failed: {done.stderr.strip()}")

    def inside(self, function: Callable[[], T]) -> T:
        return namespace.inside(self.name, function)

    def haproxy_servers(self) -> dict[str, str]:
        return haproxy_servers(self.paths.haproxy_socket)

    def wait_haproxy(self, status: str, timeout: float = 20.0, server: str | None = None) -> None:
        """Wait until HAProxy's health checks mark the server(s) ``UP`` or ``DOWN``."""
        names = (server,) if server else HAPROXY_SERVERS

        def settled() -> bool:
            servers = self.haproxy_servers()
            return all(servers.get(name) == status for name in names)

        self.wait(settled, f"HAProxy to mark {', '.join(names)} {status}", timeout)

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise LabError(f"timed out after {timeout:g}s waiting for {what}")
            time.sleep(0.05)

    # --- state ------------------------------------------------------------------------------

    def require_state(self) -> LabState:
        if self.state is None:
            named = "" if self.name == DEFAULT_NAME else f" --name {self.name}"
            raise LabError(f"no lab named {self.name} is up: run `faultfinder lab up{named}`")
        return self.state

    def require_up(self) -> LabState:
        check_environment()
        state = self.require_state()
        if not namespace.exists(self.name):
            raise LabError(
                f"the lab {self.name} has state but no namespace: run `faultfinder lab down` "
                "then `faultfinder lab up`"
            )
        return state

    def _save(self) -> None:
        if self.state is not None:
            self.state.save(self.paths.state)
