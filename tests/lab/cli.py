"""`python -m tests.lab up|hosts N [--suite KIND]|down|status|ray-versions`: the lab's command line."""

from __future__ import annotations

import argparse
import sys
import time

from .engine import engine_version
from .hosts import HOST_SUITES, ensure_hosts, lab_hosts, remove_hosts
from .images import DEBIAN_SUITE
from .recipes import all_recipes
from .registry import MIRROR_URL, mirror_has, ray_versions, registry_answers, stop_registry
from .up import ensure_up
from .util import LabError, cache_dir, locked, say


def cmd_up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    url = ensure_up()
    say(f"up in {time.monotonic() - started:.1f} s")
    print(url)
    return 0


def cmd_hosts(args: argparse.Namespace) -> int:
    started = time.monotonic()
    inventory = ensure_hosts(args.count, args.suite)
    say(f"{args.count} lab host(s) answering SSH in {time.monotonic() - started:.1f} s")
    print(inventory)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    remove_hosts()
    cache = cache_dir()
    with locked(cache):
        stop_registry(cache)
    say(f"Docker engine left running; cache kept in {cache} (delete it to rebuild from nothing)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Exit status 0 only when the lab is fully up, so scripts can test it."""
    version = engine_version()
    registry = registry_answers()
    recipes = all_recipes()
    images = [registry and mirror_has(recipe.repository, recipe.tag) for recipe in recipes]
    print(f"engine:   {'up (Docker ' + version + ')' if version else 'down'}")
    print(f"registry: {'up at ' + MIRROR_URL if registry else 'down'}")
    for recipe, image in zip(recipes, images):
        print(f"image:    {recipe.repository}:{recipe.tag} {'in the mirror' if image else 'not in the mirror'}")
    if version:
        running = sorted(name for name, (up, _) in lab_hosts().items() if up)
        print(f"hosts:    {' '.join(running) if running else 'none'}")
    return 0 if version and registry and all(images) else 1


def cmd_ray_versions(args: argparse.Namespace) -> int:
    """The Ray versions the mirror serves, one per line, newest last."""
    versions = ray_versions()
    print("\n".join(versions))
    return 0 if versions else 1


def build_parser() -> argparse.ArgumentParser:
    # The description is the first line of the package's docstring.
    description = sys.modules[__package__].__doc__.split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=description)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("up", help="start engine and registry, make the mirror serve the images (Ray, Redis, Prometheus; Grafana when given); "
                        "prints the mirror URL").set_defaults(func=cmd_up)
    hosts = commands.add_parser("hosts", help="run exactly COUNT lab hosts (Debian with sshd and an idle "
                                "Docker engine); prints the path of their inventory")
    hosts.add_argument("count", type=int, metavar="COUNT")
    hosts.add_argument("--suite", choices=list(HOST_SUITES), default=DEBIAN_SUITE,
                       help=f"kind of host (default {DEBIAN_SUITE}, Debian 12 with Docker 20.10; trixie: Debian 13 with "
                            "Docker 26; bookworm-systemd: Debian 12 booting systemd as PID 1)")
    hosts.set_defaults(func=cmd_hosts)
    commands.add_parser("down", help="remove the lab hosts and stop the registry (engine and cache "
                        "are kept)").set_defaults(func=cmd_down)
    commands.add_parser("status", help="say what is up").set_defaults(func=cmd_status)
    commands.add_parser("ray-versions", help="the Ray versions the mirror serves, one per line, newest last"
                        ).set_defaults(func=cmd_ray_versions)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
