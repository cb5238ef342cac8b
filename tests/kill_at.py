"""Runs ``ct`` and dies like a killed process (``os._exit``, no cleanup) at a chosen point.

    python tests/kill_at.py MODULE:ATTRIBUTE:WHEN:N -- train CONFIG --set ...

wraps ``MODULE.ATTRIBUTE`` (a function, or ``Class.method``) so that its N-th call exits the
process with status 137 ``before`` or ``after`` the original runs. Used by the crash-safety
tests to kill a run at every phase that writes files.
"""

import importlib
import os
import sys


def install(spec: str) -> None:
    target, attribute, when, nth = spec.split(":")
    module = importlib.import_module(target)
    owner, name = module, attribute
    if "." in attribute:
        class_name, name = attribute.split(".")
        owner = getattr(module, class_name)
    original = getattr(owner, name)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        dying = calls["n"] == int(nth)
        if dying and when == "before":
            os._exit(137)
        result = original(*args, **kwargs)
        if dying and when == "after":
            os._exit(137)
        return result

    setattr(owner, name, wrapper)


if __name__ == "__main__":
    separator = sys.argv.index("--")
    for spec in sys.argv[1:separator]:
        install(spec)
    from ct.cli import main

    sys.exit(main(sys.argv[separator + 1:]))
