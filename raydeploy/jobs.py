"""`runner.py job submit | logs | list | stop`: Ray jobs on the deployed cluster, through its Jobs API.

The runner learns where the jobs go from the settings (playbooks/job.yml: the head's Jobs API, the control node's
token file, the cluster's Ray version) and then talks to the Jobs API with the pinned ray[default] of .venv.
The token is read by Ray from its file (RAY_AUTH_TOKEN_PATH); its value is never printed. Every refusal (no
cluster, a token the head rejects, an unknown job, a missing or too large working dir, another Ray version) is
one line, before anything is sent.
"""

import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

# Ray's dashboard takes request bodies up to this size (ray_constants.DASHBOARD_CLIENT_MAX_SIZE, ray#55877):
# a zipped working dir above it is refused by the head after the upload, so it is refused here before it.
UPLOAD_LIMIT = 100 * 2**20
# Ray's environment variables that would send the client elsewhere or with another token than the settings say.
RAY_CLIENT_OVERRIDES = ("RAY_ADDRESS", "RAY_API_SERVER_ADDRESS", "RAY_AUTH_TOKEN")
ENDED = ("SUCCEEDED", "FAILED", "STOPPED")
STOP_WAIT = 60


class JobError(Exception):
    """A refusal or failure, printed as one line."""


class UnknownJob(JobError):
    """The Jobs API knows no job of that id."""


def version_problem(control_version, cluster_version):
    """The Jobs client speaks HTTP only, which Ray keeps across versions (plugins/module_utils/ray_versions.py)."""
    from ansible_collections.ray_docker.cluster.plugins.module_utils.ray_versions import client_problem

    return client_problem(control_version, cluster_version)


def default_excludes():
    """What Ray leaves out of every upload itself (.git, .venv, venv, __pycache__; ray#45602: .git is the usual
    culprit), besides .gitignore and .rayignore."""
    from ray._private import ray_constants

    return ray_constants.get_runtime_env_default_excludes()


def include_gitignore():
    from ray._private import ray_constants  # Ray's own switch, read the way its client reads it

    return os.environ.get(ray_constants.RAY_RUNTIME_ENV_IGNORE_GITIGNORE, "0") != "1"


def package_size(directory, excludes):
    """Bytes of the package Ray would upload from `directory`: its own walk (with .gitignore, .rayignore and
    `excludes`), and its zip stores files as they are (ZIP_STORED, no folder entries), so the size is theirs plus
    each file's headers (a local one of 30 bytes and a central one of 46, each with the name), within a few bytes."""
    from ray._private.runtime_env import packaging  # the pinned Ray's own rules, so the count matches the upload

    root = Path(directory).absolute()
    total = 22

    def count(path):
        nonlocal total
        if path.is_file():
            total += 76 + 2 * len(str(path.relative_to(root)).encode()) + path.stat().st_size

    packaging._dir_travel(root, [packaging._get_excludes(root, default_excludes() + list(excludes))], count,
                          include_gitignore=include_gitignore())
    return total


def check_working_dir(directory, excludes, limit=UPLOAD_LIMIT):
    """The upload's size in bytes; raises JobError for a missing folder or a package over `limit`."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise JobError(f"--working-dir {directory}: no such folder")
    size = package_size(path, excludes)
    if size >= limit:
        raise JobError(f"--working-dir {directory}: its package is {size / 2**20:.1f} MiB, over the {limit // 2**20} MiB "
                       "Ray's Jobs API accepts; nothing was sent. Leave out large files with --exclude PATTERN or a "
                       ".rayignore, and put data on the nodes or in storage they read")
    return size


def job_runtime_env(args, excludes):
    """Ray's runtime_env of a submitted job: --runtime-env-json, the working dir and its excludes, --pip added to
    its pip list (per-job extras; the image holds what every job needs)."""
    runtime_env = dict(getattr(args, "runtime_env", None) or {})
    runtime_env.update(working_dir=str(Path(args.working_dir).expanduser().absolute()),
                       excludes=list(runtime_env.get("excludes") or []) + excludes)
    pip = list(getattr(args, "pip", None) or [])
    if pip:
        given = runtime_env.get("pip") or []
        if isinstance(given, dict):  # Ray's {"packages": [...], ...} form
            runtime_env["pip"] = dict(given, packages=list(given.get("packages") or []) + pip)
        else:
            runtime_env["pip"] = list(given) + pip
    return runtime_env


def use_token(token_file):
    """Point Ray at the cluster's token file. Ray reads these when it is first imported, so this comes before any
    import of ray; the token's value stays in its file. Ray's client logs each upload and websocket at INFO:
    the runner says what matters itself."""
    for name in RAY_CLIENT_OVERRIDES:
        os.environ.pop(name, None)
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN_PATH"] = token_file
    import ray.job_submission  # noqa: F401  (sets its loggers up, which are then quietened)

    for name in ("ray", "ray.dashboard.modules.dashboard_sdk", "ray.dashboard.modules.job.sdk",
                 "ray._private.runtime_env.packaging"):
        logging.getLogger(name).setLevel(logging.WARNING)


def connect(target):
    """A JobSubmissionClient for the cluster, authenticated with its token file; JobError when it does not answer."""
    token_file = target["token_file"]
    if not os.path.isfile(token_file) or not os.access(token_file, os.R_OK) or os.path.getsize(token_file) == 0:
        raise JobError(f"no readable token at {token_file}: the cluster has not been deployed from this machine "
                       "(runner.py site)")
    import ray
    from ray.job_submission import JobSubmissionClient

    problem = version_problem(ray.__version__, target["ray_version"])
    if problem:
        raise JobError(problem)
    url = target["dashboard_url"]
    try:
        client = JobSubmissionClient(url)
        client.list_jobs()  # the first request that needs the token
    except Exception as exc:  # Ray raises ConnectionError / RuntimeError with the reason in the text
        raise JobError(explain(exc, url, token_file))
    problem = version_problem(ray.__version__, getattr(client, "_server_ray_version", None) or target["ray_version"])
    if problem:  # the head's own version (from /api/version), should it differ from the settings
        raise JobError(problem)
    return client


def unknown_job(text, job_id):
    return bool(job_id and re.search(r"status code 404\b|does not exist", text))


def explain(exc, url, token_file, job_id=None):
    from ray.exceptions import AuthenticationError

    text = str(exc)
    if isinstance(exc, AuthenticationError) or re.search(r"status code 40[13]\b|Unauthorized", text):
        return f"the head at {url} rejected the token in {token_file} (a cluster deployed from another machine? copy its token there)"
    if unknown_job(text, job_id):
        return f"no job {job_id} on the cluster at {url} (runner.py job list shows them)"
    if job_id and "submission type" in text:
        return f"job {job_id} was started by a driver, not submitted: Ray keeps no log or stop for it (ray.init())"
    if isinstance(exc, ConnectionError) or "onnect" in text:
        return f"no Ray head answers at {url}: is the cluster running? (runner.py status, runner.py site)"
    return f"{url}: {text.splitlines()[0] if text else type(exc).__name__}"


def asking(call, url, token_file, job_id=None):
    """call()'s result; whatever the Jobs API answers instead becomes one line (a head restarting while its log is
    followed, a job that was not submitted, ...)."""
    try:
        return call()
    except (KeyboardInterrupt, JobError):
        raise
    except Exception as exc:
        raise (UnknownJob if unknown_job(str(exc), job_id) else JobError)(explain(exc, url, token_file, job_id))


def job_info(client, job_id, url, token_file):
    return asking(lambda: client.get_job_info(job_id), url, token_file, job_id)


def stream_logs(client, job_id, out):
    """Print the job's log lines as they come, until it ends."""
    async def tail():
        async for lines in client.tail_job_logs(job_id):
            out.write(lines)
            out.flush()

    asyncio.run(tail())


def job_logs(client, job_id, url, token_file, kept_logs=None, err=sys.stderr):
    """The job's whole log: Ray's answer; when Ray has none (it reads job logs from the running head's session, so
    a job whose head was replaced has none there, or an error when its old head's agent is gone), the log the
    head's kept sessions hold (`kept_logs(job_id)` -> (host, path, text) or None), saying where it came from."""
    try:
        text, problem = client.get_job_logs(job_id), None
    except Exception as exc:
        text, problem = "", explain(exc, url, token_file, job_id)
    if text or kept_logs is None:
        if problem:
            raise JobError(problem)
        return text
    kept = kept_logs(job_id)
    if not kept or not kept[2]:
        if problem:
            raise JobError(problem)
        return text
    host, path, kept_text = kept
    err.write(f"runner.py: Ray has no log of job {job_id} (the head that ran it was replaced); "
              f"this is its log as the head kept it: {host}:{path}\n")
    return kept_text


def row(info):
    """One job as the table and --json show it."""
    start, end = info.start_time, info.end_time
    seconds = ((end or time.time() * 1000) - start) / 1000 if start else None
    return {"job_id": info.submission_id or info.job_id, "status": str(getattr(info.status, "value", info.status)),
            "entrypoint": info.entrypoint,
            "start": datetime.fromtimestamp(start / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if start else "",
            "duration_s": round(seconds, 1) if seconds is not None else None, "message": info.message or ""}


def format_table(rows, width=60):
    """The rows as aligned columns, oldest first; long entrypoints cut to `width` characters."""
    header = ("ID", "STATUS", "ENTRYPOINT", "START (UTC)", "DURATION")
    entrypoints = [" ".join(r["entrypoint"].split()) for r in rows]  # one line per job
    lines = [(r["job_id"], r["status"], entry if len(entry) <= width else entry[:width - 1] + "…",
              r["start"], "" if r["duration_s"] is None else f"{r['duration_s']:.1f} s") for r, entry in zip(rows, entrypoints)]
    widths = [max(len(str(cells[i])) for cells in [header, *lines]) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(cells)).rstrip() for cells in [header, *lines])


def keeps_running(job_id):
    return (f"runner.py: job {job_id} keeps running on the cluster; follow it: runner.py job logs {job_id} --follow; "
            f"stop it: runner.py job stop {job_id}")


def run(args, target, guard, out=sys.stdout, err=sys.stderr, kept_logs=None):
    """Carry out `args.job_verb`; the exit status. `guard()` is the deployment lock, held only while a job or a
    stop is sent (a deployment may be recreating the head), never while a job runs. `kept_logs(job_id)` reads a
    job's log from the head host's kept sessions (see job_logs)."""
    url, token_file = target["dashboard_url"], target["token_file"]
    use_token(token_file)
    # Started from a script in the background, Python inherits SIGINT ignored; an interrupt must still end the
    # following (never the job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logs_to = err if args.json else out
    if args.job_verb == "list":
        client = connect(target)
        rows = sorted((row(info) for info in client.list_jobs()), key=lambda r: r["start"])
        out.write((json.dumps(rows, indent=2) if args.json else format_table(rows)) + "\n")
        return 0
    if args.job_verb == "logs":
        client = connect(target)
        try:
            info = job_info(client, args.job_id, url, token_file)
        except UnknownJob:
            # A job of an earlier head whose GCS state is not this one's (an upgrade starts a new store; without
            # fault tolerance a new head starts empty): only the head's kept sessions may still have its log.
            kept = kept_logs(args.job_id) if kept_logs else None
            if not kept or not kept[2]:
                raise
            err.write(f"runner.py: Ray does not know job {args.job_id} any more (its head was replaced, with a new GCS "
                      f"state); this is its log as the head kept it: {kept[0]}:{kept[1]}\n")
            logs_to.write(kept[2])
            return 0
        try:
            if args.follow and str(getattr(info.status, "value", info.status)) not in ENDED:
                asking(lambda: stream_logs(client, args.job_id, logs_to), url, token_file, args.job_id)
            else:  # an ended job has nothing more to follow: its whole log, wherever it is kept
                logs_to.write(job_logs(client, args.job_id, url, token_file, kept_logs, err))
        except KeyboardInterrupt:
            err.write(f"\n{keeps_running(args.job_id)}\n")
            return 130
        if args.json:
            out.write(json.dumps(row(job_info(client, args.job_id, url, token_file)), indent=2) + "\n")
        return 0
    if args.job_verb == "stop":
        with guard():
            client = connect(target)
            job_info(client, args.job_id, url, token_file)
            asking(lambda: client.stop_job(args.job_id), url, token_file, args.job_id)
        deadline = time.monotonic() + STOP_WAIT
        while (info := job_info(client, args.job_id, url, token_file)).status not in ENDED and time.monotonic() < deadline:
            time.sleep(0.5)
        result = row(info)
        out.write(json.dumps(result, indent=2) + "\n" if args.json else f"job {args.job_id}: {result['status']}\n")
        return 0 if result["status"] in ENDED else 1
    # submit
    excludes = list(args.exclude)  # Ray adds its own defaults, .gitignore and .rayignore
    size = check_working_dir(args.working_dir, excludes)
    with guard():
        client = connect(target)
        runtime_env = job_runtime_env(args, excludes)
        try:
            job_id = client.submit_job(entrypoint=args.entrypoint, runtime_env=runtime_env,
                                       submission_id=args.submission_id)
        except Exception as exc:
            raise JobError(explain(exc, url, token_file))
    err.write(f"runner.py: job {job_id} submitted to {url} ({size / 2**20:.1f} MiB uploaded from {args.working_dir})\n")
    if args.no_wait:
        out.write(json.dumps(row(job_info(client, job_id, url, token_file)), indent=2) + "\n" if args.json else f"{job_id}\n")
        return 0
    try:
        asking(lambda: stream_logs(client, job_id, logs_to), url, token_file, job_id)
        while (info := job_info(client, job_id, url, token_file)).status not in ENDED:
            time.sleep(0.2)
    except KeyboardInterrupt:
        err.write(f"\n{keeps_running(job_id)}\n")
        return 130
    result = row(info)
    if args.json:
        out.write(json.dumps(result, indent=2) + "\n")
    if result["status"] == "SUCCEEDED":
        err.write(f"runner.py: job {job_id} SUCCEEDED in {result['duration_s']} s\n")
        return 0
    tail = "\n".join(asking(lambda: client.get_job_logs(job_id), url, token_file, job_id).splitlines()[-10:])
    reason = (result["message"].splitlines() or [""])[0]  # Ray appends the log to it: shown once, below
    err.write(f"runner.py: job {job_id} {result['status']}: {reason}\nLast lines of its log:\n{tail}\n")
    return 1
