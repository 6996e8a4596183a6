"""The ``faultfinder`` command line: every command behind one wrapper.

Every call builds every command's parser (``arguments``: argparse only, so it is cheap) and
then imports the one module that runs the chosen command (``diagnose``, ``validate``,
``monitor``, ``serve``, ``logs``: each has ``run(args) -> int``). A plug-in (the fault lab,
``faultfinder_lab.cli``) is a module registered under the ``faultfinder.commands`` entry-point
group with three names:

    COMMANDS: tuple[str, ...]           the subcommands it adds
    add_parsers(commands) -> None       their argparse parsers (cheap: every call builds them)
    run(args) -> int                    the work (imported inside it, when it runs)

``main`` runs the chosen command through ``run_command``, which gives every command the same
behaviour at the edges: a ``FaultfinderError`` is one line on stderr and its exit status (2 for
a bad stack file or call), Ctrl-C is 130, and a reader that goes away (``| head``) ends the
command quietly with 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from types import ModuleType

from faultfinder import __version__
from faultfinder.cli import arguments
from faultfinder.errors import FaultfinderError
from faultfinder.redact import INLINE

DESCRIPTION = "Which layer broke, in which component, and whose move is it."
PLUGINS = "faultfinder.commands"  # entry-point group of commands other packages add
INTERRUPTED = 130  # as a shell reports a process ended by SIGINT
READER_GONE = 1


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, like every other bad call."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def plugins() -> list[ModuleType]:
    """The command modules other installed packages add (the fault lab's, say)."""
    return [entry.load() for entry in entry_points(group=PLUGINS)]


def build_parser(plugin_modules: Sequence[ModuleType] = ()) -> argparse.ArgumentParser:
    parser = _Parser(prog="faultfinder", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"faultfinder {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    arguments.add_parsers(commands)
    for module in plugin_modules:
        module.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    found = plugins()
    args = build_parser(found).parse_args(argv)
    if args.command in arguments.MODULES:
        module = importlib.import_module(f"{__name__}.{arguments.MODULES[args.command]}")
    else:
        module = next(plugin for plugin in found if args.command in plugin.COMMANDS)
    return run_command(module.run, args)


def run_command(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one command with the edges every command shares (see the module's docstring)."""
    try:
        status = run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the net, not at exit
        return status
    except FaultfinderError as error:
        print(f"faultfinder: error: {INLINE(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return READER_GONE


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's flush at exit cannot fail again (as
    Python's documentation of SIGPIPE advises)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
