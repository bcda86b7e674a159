"""The base class of every error a user can cause and fix, below every layer.

Each module that refuses bad input raises its own type derived from :class:`UserError` and the built-in it
refines (``ConfigError(UserError, ValueError)``, ``FrameReadError(UserError, RuntimeError)``, ...), so the
command lines' one error policy (:mod:`paperlib.cli`) catches them all by this one class, without importing
the modules that raise them.
"""


class UserError(Exception):
    """An error in what the user gave (data, files, options, a recipe) whose message names it and tells how to
    fix it; a command line ends with that message on one line and status 1."""
