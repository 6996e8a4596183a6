"""``faultfinder init SOURCE``: write a commented stack file from what the project already has.

Exit status: 0 written (or already up to date), 1 a stack file is already there and differs
(the diff is printed, nothing is overwritten), 2 the source cannot be read or the call is
wrong (docs/contract.md §5).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faultfinder.errors import UsageError
from faultfinder.scaffold import check, diff, render, scaffold_source


def run(args: argparse.Namespace) -> int:
    scaffold = scaffold_source(args.source)
    text = render(scaffold)
    check(text, scaffold, args.out)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if out.exists() and not args.force:
        try:
            old = out.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read {args.out}: {error}") from None
        if old == text:
            print(f"{args.out}: up to date with {args.source}")
            return 0
        sys.stdout.write(diff(old, text, args.out))
        print(
            f"{args.out} exists and differs from what {args.source} gives: not overwritten "
            "(the diff above; --force replaces it)",
            file=sys.stderr,
        )
        return 1
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {args.out}: {error.strerror or error}") from None
    print(f"{args.out}: {len(scaffold.components)} components from {args.source}")
    return 0
