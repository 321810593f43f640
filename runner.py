#!/usr/bin/env python3
"""Deploy and verify a Ray cluster in Docker: a thin CLI over ansible-runner.

    python3 runner.py site                 # everything, on this machine (embedded default inventory)
    python3 runner.py site -i lab.yml      # the hosts of an inventory
    python3 runner.py status --json        # nodes, resources, dashboard URL as JSON

The first run creates .venv from requirements.txt and re-runs itself there.
"""

import getpass
import json
import os
import sys
import tempfile

from raydeploy import bootstrap


def play(args, stream=sys.stderr):
    """Run the verb's playbook; (summary, the data its plays handed the runner)."""
    import ansible_runner  # only importable once bootstrap has put us in the environment

    from raydeploy import report

    progress = report.Progress(stream=stream, verbosity=args.verbose, show_diff=args.diff)
    flags = (("--check", args.check), ("--diff", args.diff), ("--ask-become-pass", args.ask_become_pass))
    cmdline = " ".join(flag for flag, on in flags if on)
    passwords = {r"^BECOME password.*:\s*?$": getpass.getpass("BECOME (sudo) password: ")} if args.ask_become_pass else {}
    artifacts = bootstrap.ROOT / ".artifacts"
    artifacts.mkdir(mode=0o700, exist_ok=True)
    # A fresh private data dir per run: ansible-runner keeps env/extravars and env/cmdline there
    # and would replay a previous run's -e and --check into the next one.
    with tempfile.TemporaryDirectory(prefix="ray-docker-runner-") as private_data_dir:
        runner = ansible_runner.run(
            private_data_dir=private_data_dir,
            artifact_dir=str(artifacts),
            project_dir=str(bootstrap.ROOT),
            playbook=str(args.playbook),
            inventory=args.inventory,
            extravars=args.extravars,
            limit=args.limit,
            tags=args.tags,
            verbosity=args.verbose or None,
            cmdline=cmdline or None,
            # ansible-runner starts the ansible-playbook it finds on PATH: make it this environment's.
            envvars={"ANSIBLE_CONFIG": str(bootstrap.ROOT / "ansible.cfg"),
                     "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                     "ANSIBLE_NOCOLOR": "0" if sys.stderr.isatty() else "1"},
            passwords=passwords,
            event_handler=progress,
            quiet=True,
            rotate_artifacts=20,
            # Not ansible-runner's default JSON files: every task read each host's facts back from disk and
            # decoded them (a third of the controller's time in an 8-host no-op re-run), and kept them in .artifacts.
            fact_cache_type="memory",
        )
        artifact_data = {}
        for event in runner.events:
            if event.get("event") == "playbook_on_stats":
                artifact_data = (event.get("event_data") or {}).get("artifact_data") or {}
        summary = report.summarize(runner.stats, artifact_data, progress, runner.rc, runner.status)
        if summary["status"] == "failed" and not summary["failures"]:  # e.g. a playbook ansible could not parse
            summary["failures"].append({"host": "-", "task": "ansible-playbook", "outcome": runner.status,
                                        "msg": "\n".join(runner.stdout.read().splitlines()[-5:]) or runner.status})
    return summary, artifact_data


def run(args):
    from raydeploy import report

    summary, _ = play(args)
    report.print_recap(summary)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    return {"ok": 0, "degraded": report.DEGRADED_EXIT}.get(summary["status"], 1)


def run_job(args, lock):
    """`job ...`: learn where jobs go from the settings (quietly), then use the Jobs API."""
    import io

    from raydeploy import jobs, report

    summary, artifact_data = play(args, stream=io.StringIO())
    target = artifact_data.get("ray_job_target")
    if summary["status"] != "ok" or not target:
        report.print_recap(summary)  # a refused setting or an inventory without a head, as every verb says it
        return 1
    guard = lambda: lock.acquire("job", args.lock_timeout, lambda text: print(f"runner.py: {text}", file=sys.stderr))  # noqa: E731
    try:
        return jobs.run(args, target, guard, kept_logs=lambda job_id: kept_job_log(args, job_id))
    except jobs.JobError as exc:
        print(f"runner.py: error: {exc}", file=sys.stderr)
        return 1


def kept_job_log(args, job_id):
    """(host, path, text) of a job's log as the head host keeps it (playbooks/job_logs.yml), or None."""
    import argparse
    import io

    with tempfile.TemporaryDirectory(prefix="ray-docker-job-log-") as folder:
        dest = os.path.join(folder, "job.log")
        kept_args = argparse.Namespace(**vars(args))
        kept_args.playbook = bootstrap.ROOT / "playbooks" / "job_logs.yml"
        kept_args.extravars = {**(args.extravars or {}), "job_logs_id": job_id, "job_logs_dest": dest}
        summary, artifact_data = play(kept_args, stream=io.StringIO())
        found = artifact_data.get("ray_job_kept_log")
        if summary["status"] != "ok" or not found or not os.path.exists(dest):
            return None
        with open(dest, encoding="utf-8", errors="replace") as handle:
            return found["host"], found["path"], handle.read()


def main(argv):
    from raydeploy import cli, lock

    try:
        # A bad command line is refused before the environment is built; -e key=value gets its types (from
        # the roles' argument specs, read with Ansible's YAML) once it is there.
        cli.parse_args(argv, typed=False)
        bootstrap.ensure_venv(bootstrap.ROOT / "requirements.txt", [os.path.abspath(__file__), *argv])
        args = cli.parse_args(argv)
        if args.verb == "job":
            return run_job(args, lock)
        if args.verb in cli.READ_ONLY_VERBS:
            return run(args)
        # Two runs that change the same cluster would race each other's containers: one at a time.
        with lock.acquire(args.verb, args.lock_timeout, lambda text: print(f"runner.py: {text}", file=sys.stderr)):
            return run(args)
    except lock.LockTimeout as exc:
        print(f"runner.py: error: {exc}", file=sys.stderr)
        return 2
    except (cli.UserError, bootstrap.BootstrapError) as exc:
        print(f"runner.py: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("runner.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
