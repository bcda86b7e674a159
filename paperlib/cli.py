"""One error policy for every command line.

An error the user can cause and fix (a bad list line, an unreadable frame, a missing file, a checkpoint that
does not fit, a configuration key) ends the command with exit status 1 and ONE line on stderr,
``error: <what, naming the file/line/key and what to do>``; usage errors keep argparse's status 2. ``--debug``
(or ``PAPERLIB_DEBUG=1`` in the environment) prints the traceback as well. Ctrl-C stops with status 130 and one
line saying how to continue. Anything else (a bug) keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from .errors import UserError  # raised by the commands (evaluate), caught with its subclasses

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped with Ctrl-C


def user_errors() -> tuple[type[BaseException], ...]:
    """The exception classes that mean "the input is wrong", not "the code is wrong": every
    :class:`~paperlib.errors.UserError` (a bad configuration, recipe name, list line, frame, checkpoint, a
    kernel that does not build, a loss that is not finite) and the file system's refusals."""
    return (UserError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    """``--debug``: show the traceback of an error (also ``PAPERLIB_DEBUG=1``)."""
    parser.add_argument(
        "--debug", action="store_true", help="on an error, also print its traceback (or set PAPERLIB_DEBUG=1)"
    )


def debug_wanted(flag: bool = False) -> bool:
    """``--debug`` given, or ``PAPERLIB_DEBUG`` set to anything but empty/0/false/no."""
    return flag or os.environ.get("PAPERLIB_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (a multi-line message's lines joined with "; ")."""
    parts = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(parts) or type(exc).__name__


def _rank_prefix() -> str:
    return f"rank {os.environ.get('RANK', '0')}: " if int(os.environ.get("WORLD_SIZE", "1")) > 1 else ""


def error_line(message: str) -> None:
    """Print ``error: message`` as one line on stderr."""
    print(f"error: {_rank_prefix()}{' '.join(message.split())}", file=sys.stderr, flush=True)


def guarded(
    body: Callable[[], int],
    debug: bool = False,
    on_interrupt: Callable[[], str] | str = "nothing was written",
) -> int:
    """Run a command's ``body`` under the one error policy; returns the exit status.

    Args:
        body: the command's work; returns its own exit status.
        debug: print tracebacks too.
        on_interrupt: what to tell after Ctrl-C (how to continue), or a function computing it then.
    """
    debug = debug_wanted(debug)
    try:
        return body()
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        hint = on_interrupt() if callable(on_interrupt) else on_interrupt
        print(f"interrupted (Ctrl-C){'; ' + hint if hint else ''}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except user_errors() as exc:
        if debug:
            traceback.print_exc()
        error_line(one_line(exc))
        return EXIT_ERROR
