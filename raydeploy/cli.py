"""Command-line arguments of runner.py: verbs, options and ansible-playbook style extra vars."""

import argparse
import functools
import json
import shlex
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# verb -> (playbook, help)
VERBS = {
    "site": ("site.yml", "everything: preflight, Docker engine, image, cluster, check"),
    "preflight": ("preflight.yml", "validate the inventory and settings only"),
    "wsl": ("wsl.yml", "Windows PCs: WSL2, the distribution, its network; WSL distributions: wsl.conf, sshd"),
    "docker": ("docker.yml", "Docker engine and registry mirrors"),
    "cache": ("cache.yml", "the LAN image cache on one host of a lab (registry_cache)"),
    "image": ("image.yml", "pull the pinned images on every host (through the LAN cache when there is one)"),
    "cluster": ("cluster.yml", "start the Ray head and workers, wait until all are alive"),
    "monitoring": ("monitoring.yml", "Prometheus and Grafana on the monitoring host"),
    "check": ("check.yml", "Ray task/actor check of every node through the Jobs API"),
    "status": ("status.yml", "nodes, resources and dashboard URL of the running cluster"),
    "down": ("down.yml", "remove the cluster's containers (images and engine stay)"),
    "logs": ("logs.yml", "every node's Ray logs, the containers' logs and the runs' records in one tar.gz (--since, -o)"),
    "drain": ("drain.yml", "drain HOST [--deadline S]: drain a worker host's nodes and remove them (site brings them back)"),
}


JOB_HELP = "; job: submit, follow, list or stop Ray jobs (runner.py job --help)"

# Verbs that only read: they never wait for another run's lock. (`job` waits for it only to send a job or a stop.)
READ_ONLY_VERBS = ("status", "preflight")


class UserError(Exception):
    """Bad input from the user: printed as one line, never as a traceback."""


def parse_extra_vars(values, base_dir=None, typed=True):
    """Merge -e values like ansible-playbook: key=value pairs, a JSON/YAML mapping, or @file. Unlike
    ansible-playbook, key=value gives the roles' boolean and numeric variables their type. typed=False
    only checks the syntax: it runs before the environment with Ansible exists."""
    merged = {}
    for value in values or []:
        merged.update(_parse_one(value.strip(), Path(base_dir or Path.cwd()), typed))
    return merged


def _parse_one(value, base_dir, typed=True):
    if not value:
        raise UserError("-e/--extra-vars needs a value: key=value, a JSON object or @file")
    if value.startswith("@"):
        path = base_dir / value[1:]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"-e {value}: cannot read {path}: {exc.strerror}")
        return _mapping(text, f"-e {value}", typed)
    if value[0] in "{[":
        return _mapping(value, f"-e {value!r}", typed)
    pairs = {}
    for token in shlex.split(value):
        key, sep, item = token.partition("=")
        if not sep or not key.isidentifier():
            raise UserError(f"-e {token!r}: expected key=value (key a valid variable name), a JSON object or @file")
        pairs[key] = typed_value(item, scalar_types().get(key)) if typed else item
    return pairs


@functools.cache
def scalar_types(root=ROOT):
    """{variable: 'bool' | 'int' | 'float'} from every role's argument spec (read once)."""
    import yaml  # ships with ansible-core

    kinds = {}
    for path in sorted(root.glob("roles/*/meta/argument_specs.yml")):
        specs = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        options = ((specs.get("argument_specs") or {}).get("main") or {}).get("options") or {}
        kinds.update({name: spec["type"] for name, spec in options.items() if spec.get("type") in ("bool", "int", "float")})
    return kinds


@functools.cache
def variable_tables(root=ROOT):
    """(declared, internal, removed, roles) of the collection: every role's variables, the names the roles set for
    themselves, and those of earlier releases (meta/internal_variables.yml, meta/removed_variables.yml)."""
    import yaml  # ships with ansible-core

    declared, roles = set(), []
    for path in sorted(root.glob("roles/*/meta/argument_specs.yml")):
        roles.append(path.parent.parent.name)
        specs = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in (specs.get("argument_specs") or {}).values():
            declared |= set(((entry or {}).get("options") or {}).keys())
    internal = yaml.safe_load((root / "meta" / "internal_variables.yml").read_text(encoding="utf-8")) or {}
    removed = yaml.safe_load((root / "meta" / "removed_variables.yml").read_text(encoding="utf-8")) or {}
    return declared, set(internal.get("internal") or []) | set(internal.get("facts") or []), removed.get("removed") or {}, roles


def name_problems(extravars, root=ROOT):
    """-e names with a role's prefix that no role declares (a typo, or a name of an earlier release): refused before
    Ansible starts, as the preflight would refuse them after it."""
    from ansible_collections.ray_docker.cluster.plugins.module_utils import variable_names

    declared, internal, removed, roles = variable_tables(root)
    foreign = extravars.get("preflight_foreign_variables") or []
    return variable_names.problems(extravars, declared, internal, removed, variable_names.prefixes(roles),
                                   foreign if isinstance(foreign, list) else [], given=lambda name: True)


def typed_value(text, kind):
    """`-e key=value` hands Ansible a string, and the string "false" is true in a condition. A value for
    a boolean or numeric variable becomes that type here; anything else stays a string, for the
    settings check to refuse with the variable named."""
    from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE  # Ansible's own words

    word = text.strip().lower()
    if kind == "bool" and word in BOOLEANS_TRUE | BOOLEANS_FALSE:
        return word in BOOLEANS_TRUE
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        pass
    return text


def _mapping(text, where, typed=True):
    try:
        data = json.loads(text)
    except ValueError:
        try:
            import yaml  # ships with ansible-core
        except ImportError:
            if not typed:  # before the environment exists: its YAML parser checks this value then
                return {}
            raise UserError(f"{where}: not valid JSON (YAML needs PyYAML)")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UserError(f"{where}: neither JSON nor YAML: {exc}")
    if not isinstance(data, dict):
        raise UserError(f"{where}: extra vars must be a mapping of variable names to values")
    return data


def common_options():
    """The options every verb takes (job's sub-verbs too)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-i", "--inventory", action="append", default=[],
                        help="inventory file or directory (repeatable); default: inventory/localhost.yml")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="VARS",
                        help="variables as key=value, a JSON/YAML mapping or @file (repeatable; later wins)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="Ansible's own output too (-vv, -vvv for more)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    parser.add_argument("--lock-timeout", type=float, default=900, metavar="SECONDS",
                        help="how long to wait for another runner.py run to finish (default 900; 0 refuses at once)")
    return parser


def build_parser():
    parser = argparse.ArgumentParser(
        prog="runner.py",
        description="Deploy and verify a Ray cluster in Docker on the hosts of an inventory.",
        epilog="With no -i, the embedded default inventory deploys a head and 2 workers on this machine. "
               "Jobs: runner.py job {submit,logs,list,stop} --help.",
        parents=[common_options()],
    )
    parser.add_argument("verb", choices=list(VERBS), metavar="verb",
                        help="; ".join(f"{name}: {text}" for name, (_, text) in VERBS.items()) + JOB_HELP)
    parser.add_argument("-l", "--limit", help="only these hosts or groups (Ansible pattern)")
    parser.add_argument("-t", "--tags", help="only tasks with these tags (comma-separated)")
    parser.add_argument("-K", "--ask-become-pass", action="store_true",
                        help="ask for the sudo password (when you are not root and sudo needs one)")
    parser.add_argument("--check", action="store_true", help="report what would change, change nothing")
    parser.add_argument("--diff", action="store_true", help="show the changes made to files")
    parser.add_argument("host", nargs="?", help="drain: the worker host to drain")
    parser.add_argument("--since", metavar="DURATION", help="logs: only what changed in the last DURATION (30m, 2h, 1d)")
    parser.add_argument("-o", "--output", metavar="FILE", help="logs: the archive to write (a .tar.gz)")
    parser.add_argument("--deadline", type=int, metavar="SECONDS",
                        help="drain: seconds the host's running tasks may finish before they are retried elsewhere "
                             "(default ray_cluster_drain_deadline, 30)")
    return parser


def build_job_parser():
    parser = argparse.ArgumentParser(prog="runner.py job", description="Ray jobs on the deployed cluster, through its "
                                     "Jobs API with the cluster's token (never printed).")
    verbs = parser.add_subparsers(dest="job_verb", required=True, metavar="{submit,logs,list,stop}")
    common = common_options()
    submit = verbs.add_parser("submit", parents=[common], help="run a command as a job: runner.py job submit -- python x.py",
                              usage="runner.py job submit [options] -- COMMAND [ARG ...]")
    submit.add_argument("--working-dir", default=".", metavar="DIR",
                        help="uploaded for the job (default: the current folder; .gitignore and .rayignore apply)")
    submit.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                        help="also leave out these (gitignore patterns; .git, .venv, venv and __pycache__ always are)")
    submit.add_argument("--submission-id", metavar="ID", help="the job's id (default: Ray makes one)")
    submit.add_argument("--no-wait", action="store_true", help="print the job's id and return; do not stream its logs")
    submit.add_argument("--pip", action="append", default=[], metavar="REQUIREMENT",
                        help="a package Ray installs for this job only, on every node it runs on (repeat it); what every "
                             "job needs belongs in the image: ray_image_pip_packages")
    submit.add_argument("--runtime-env-json", metavar="JSON",
                        help="more of Ray's runtime_env for this job, e.g. '{\"env_vars\": {\"A\": \"1\"}}'")
    logs = verbs.add_parser("logs", parents=[common], help="a job's logs")
    logs.add_argument("job_id", metavar="ID")
    logs.add_argument("--follow", action="store_true", help="stream new lines until the job ends")
    verbs.add_parser("list", parents=[common], help="every job: id, status, entrypoint, start, duration")
    stop = verbs.add_parser("stop", parents=[common], help="stop a job and wait until it stopped")
    stop.add_argument("job_id", metavar="ID")
    return parser


def parse_job_args(argv):
    """`job <sub-verb> [options] [-- COMMAND ...]`: the command after `--` is the job's entrypoint."""
    options, command = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    args = build_job_parser().parse_args(options)
    if args.job_verb == "submit" and not command:
        raise UserError("job submit: give the job's command after --, e.g. runner.py job submit -- python train.py")
    if command and args.job_verb != "submit":
        raise UserError(f"job {args.job_verb} takes no command after --")
    if getattr(args, "runtime_env_json", None):
        try:
            args.runtime_env = json.loads(args.runtime_env_json)
        except ValueError as exc:
            raise UserError(f"job submit --runtime-env-json: not JSON ({exc})")
        if not isinstance(args.runtime_env, dict):
            raise UserError("job submit --runtime-env-json: must be a JSON object, such as '{\"env_vars\": {\"A\": \"1\"}}'")
    else:
        args.runtime_env = {}
    args.entrypoint = shlex.join(command)
    args.verb, args.playbook = "job", ROOT / "playbooks" / "job.yml"
    args.limit = args.tags = None
    args.ask_become_pass = args.check = args.diff = False
    return args


def parse_args(argv, typed=True):
    """The command line; with typed=False (before the environment with Ansible exists) -e is only checked."""
    if argv[:1] == ["job"]:
        args = parse_job_args(argv[1:])
    else:
        args = build_parser().parse_args(argv)
        args.playbook = ROOT / "playbooks" / VERBS[args.verb][0]
        if (args.host is not None or args.deadline is not None) != (args.verb == "drain") or \
                (args.verb == "drain" and not args.host):
            raise UserError("drain takes a host (runner.py drain HOST [--deadline S]); no other verb takes one")
        if (args.since is not None or args.output is not None) and args.verb != "logs":
            raise UserError("--since and -o go with logs only")
    inventories = []
    for item in args.inventory or [str(ROOT / "inventory" / "localhost.yml")]:
        path = Path(item).expanduser().resolve()
        if not path.exists():
            raise UserError(f"-i {item}: no such inventory file or directory")
        inventories.append(str(path))
    args.inventory = inventories
    args.extravars = parse_extra_vars(args.extra_vars, typed=typed)
    if getattr(args, "verb", "") == "logs":
        if args.since is not None:
            args.extravars["ray_cluster_logs_since"] = args.since
        if args.output is not None:
            args.extravars["ray_cluster_logs_file"] = str(Path(args.output).expanduser().resolve())
        else:  # in the folder the user runs from, not wherever ansible-playbook runs
            args.extravars.setdefault("ray_cluster_logs_file", str(Path.cwd() / time.strftime("ray-logs-%Y%m%dT%H%M%S.tar.gz")))
    if getattr(args, "verb", "") == "drain":
        args.extravars["ray_cluster_drain_host"] = args.host
        if args.deadline is not None:
            args.extravars["ray_cluster_drain_deadline"] = args.deadline
    if typed:
        problems = name_problems(args.extravars)
        if problems:
            raise UserError("-e: " + "; ".join(problems) + ". Nothing was run")
    return args
