"""`stepstream desk`: the web desk's users (``add-user``, ``users``, ``set-role``) and its
address (``url``); the desk itself runs inside `stepstream up`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Any

from apps.desk.settings import DeskSettings
from services.review_desk import accounts, audit
from services.review_desk.accounts import AccountError, Role
from services.review_desk.app import open_tickets
from stepstream.api.stack_file import StackNotRunning, data_dir, read_stack

DATA_DIR_HELP = "the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)"


def register(commands: Any) -> None:
    desk = commands.add_parser(
        "desk",
        help="the operators' web desk: its users and its address",
        description="The web desk runs with `stepstream up`; these commands manage who may "
        "sign in to it. viewer: sees; operator: also decides; admin: also manages users.",
    )
    actions = desk.add_subparsers(dest="desk_action", metavar="ACTION", required=True)

    add = actions.add_parser("add-user", help="a user who may sign in to the web desk")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (default: ask for it)",
    )
    add.add_argument("--data-dir", help=DATA_DIR_HELP)
    add.set_defaults(handler=_add_user)

    users = actions.add_parser("users", help="the desk's users and their roles")
    users.add_argument("--json", action="store_true", help="a JSON array")
    users.add_argument("--data-dir", help=DATA_DIR_HELP)
    users.set_defaults(handler=_users)

    role = actions.add_parser("set-role", help="change a user's role")
    role.add_argument("name", metavar="NAME")
    role.add_argument("--role", required=True, choices=[r.value for r in Role])
    role.add_argument("--data-dir", help=DATA_DIR_HELP)
    role.set_defaults(handler=_set_role)

    url = actions.add_parser("url", help="where the running stack serves the web desk")
    url.add_argument("--data-dir", help=DATA_DIR_HELP)
    url.set_defaults(handler=_url)


def _settings(folder: str | None) -> DeskSettings:
    return DeskSettings(data_dir=data_dir(folder))


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def _add_user(args: argparse.Namespace) -> int:
    async def run(password: str) -> accounts.User:
        database = await open_tickets(_settings(args.data_dir))
        try:
            now = datetime.now(UTC)
            async with database.transaction() as tx:
                user = await accounts.add_user(tx, args.name, args.role, password, at=now)
                await audit.record(
                    tx,
                    at=now,
                    actor=f"cli:{_who()}",
                    action="add-user",
                    subject=f"user:{args.name}",
                    detail={"role": args.role},
                )
            return user
        finally:
            await database.close()

    try:
        accounts.check_new_user(args.name, args.role, "x" * accounts.MIN_PASSWORD)
        user = asyncio.run(run(_password(args)))
    except AccountError as exc:
        print(f"desk add-user: {exc}", file=sys.stderr)
        return 2
    print(f"added {user.name} ({user.role})")
    return 0


def _users(args: argparse.Namespace) -> int:
    async def run() -> list[accounts.User]:
        database = await open_tickets(_settings(args.data_dir))
        try:
            async with database.transaction() as tx:
                return await accounts.list_users(tx)
        finally:
            await database.close()

    found = asyncio.run(run())
    if args.json:
        print(json.dumps([{"name": u.name, "role": str(u.role)} for u in found]))
    else:
        for user in found:
            print(f"{user.name:<24} {user.role}")
    return 0


def _set_role(args: argparse.Namespace) -> int:
    async def run() -> None:
        database = await open_tickets(_settings(args.data_dir))
        try:
            now = datetime.now(UTC)
            async with database.transaction() as tx:
                await accounts.set_role(tx, args.name, args.role)
                await audit.record(
                    tx,
                    at=now,
                    actor=f"cli:{_who()}",
                    action="set-role",
                    subject=f"user:{args.name}",
                    detail={"role": args.role},
                )
        finally:
            await database.close()

    try:
        asyncio.run(run())
    except AccountError as exc:
        print(f"desk set-role: {exc}", file=sys.stderr)
        return 2
    print(f"{args.name} is now {args.role}")
    return 0


def _url(args: argparse.Namespace) -> int:
    try:
        stack = read_stack(data_dir(args.data_dir))
    except StackNotRunning as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"{stack.urls['desk']}/" if "desk" in stack.urls else "this stack serves no web desk")
    return 0


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
