"""``python -m posebench users add|remove|list NAME``: local accounts for shared-server mode.

The password is asked for twice at the terminal (never on the command line), or read
from standard input with ``--password-stdin`` (one line, for scripts).
"""

from __future__ import annotations

import getpass
import sys

from posebench.access import accounts
from posebench.core.errors import InputError


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument("action", choices=("add", "remove", "list"))
    p.add_argument("name", nargs="?", help="user name (letters, digits, '_.@+-')")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.action == "list":
        for name in accounts.users():
            print(name)
        return 0
    if not args.name:
        raise InputError(f"users {args.action} needs a user name")
    if args.action == "remove":
        accounts.remove(args.name)
        print(f"removed {args.name}")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            raise InputError("the two passwords differ; nothing was changed")
    accounts.add(args.name, password)
    print(f"account {args.name} is ready ({accounts.accounts_path()})")
    return 0
