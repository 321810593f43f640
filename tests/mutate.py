"""`python3 -m tests.mutate`: does the fast test layer notice when the product breaks?

Applies each one-line break ("mutation") of tests/mutations.json to a copy of the checkout, runs the unit layer
there, and reports which breaks the tests kill and which survive. A survivor is a promise no unit test keeps: write
the test that kills it, or mark the mutation `"expected": "survives"` with a `why` (a timing-only effect, or one
only the e2e layer can see).

    python3 -m tests.mutate                 # every mutation; exit 0 when each is killed or expected to survive
    python3 -m tests.mutate --only ID       # one (repeatable, or comma-separated)
    python3 -m tests.mutate --list          # the list: id, file, what it breaks
    python3 -m tests.mutate --dry-run       # only check that every mutation still applies to the code
    python3 -m tests.mutate --json          # the results as JSON on stdout (progress on stderr)
    python3 -m tests.mutate --strict        # a mutation that no longer applies fails the run too

The checkout is never touched (others edit it meanwhile): its files (git's tracked and untracked ones, ignored
ones left out) are copied once into a temporary directory, the unmutated copy must pass the unit layer (the
baseline) and a built-in canary break of it must be killed; then each mutation gets a fresh copy of that snapshot.
pytest runs in the copy (`python -m pytest -q -x -m unit -p no:cacheprovider tests/unit`) with
`ansible_collections.ray_docker.cluster` linked to it first on PYTHONPATH and in ANSIBLE_COLLECTIONS_PATH. A small
pytest plugin (-p _mutate_probe) makes the copy the collection's only portion (the checkout is linked into .venv
too) and checks at the end of each run that every module of the collection, of raydeploy and of the tests was
imported from the copy (a run that imported the checkout is an error, not a kill). Mutations run one after the
other, each with a timeout (a timed-out run counts as killed).

    python3 -m tests.mutate --ignore tests/unit/plugins/action   # leave out tests that unfinished work breaks

A mutation whose `original` is not found exactly once in its file is "not applicable": printed loudly and counted
apart; with --strict it makes the exit status non-zero. Exit status: 0 when every applied mutation was killed or
is expected to survive, 1 when one survived unexpectedly (or, with --strict, a mutation did not apply), 2 when the
check itself could not run (bad list, baseline failing, canary surviving, the checkout imported).

Only the standard library: it runs with any python3 and starts the tests with .venv/bin/python.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTATIONS = ROOT / "tests" / "mutations.json"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
COLLECTION = ("ray_docker", "cluster")
PACKAGE = "ansible_collections.ray_docker.cluster"
# Copies leave these out when git cannot list the files.
IGNORED = (".venv", ".git", ".artifacts", ".cache", ".pytest_cache", "__pycache__", ".ruff_cache", ".ansible")
PYTEST = ("-m", "pytest", "-q", "-x", "-m", "unit", "-p", "no:cacheprovider", "-p", "_mutate_probe", "tests/unit")
TIMEOUT = 180
REQUIRED = ("id", "file", "original", "replacement", "breaks")
OPTIONAL = ("expected", "why")
# Broken on purpose before the list runs: the unit layer must kill it, or the runs do not test the copy.
CANARY = {"id": "canary", "file": "plugins/module_utils/resources.py", "original": "MIB = 1024 ** 2",
          "replacement": "MIB = 1000 ** 2", "breaks": "Every size the resource split computes is off."}

KILLED, SURVIVED, NOT_APPLICABLE, ERROR = "killed", "survived", "not applicable", "error"

# The pytest plugin each run loads (-p _mutate_probe): the first failing test, and where the modules came from.
PROBE = '''
import json, os, sys
from pathlib import Path

COPY = Path(os.environ["MUTATE_COPY"]).resolve()
PREFIXES = ("ansible_collections.ray_docker.cluster", "raydeploy", "tests")
state = {"first_failure": None, "late": "ansible_collections.ray_docker.cluster" in sys.modules}

# The checkout is linked into .venv's site-packages as well: ansible_collections.ray_docker would be a namespace
# package of two portions (the copy's first), which Ansible's collection loader refuses ("this loader requires
# exactly one path to search"). Loaded with -p, before any test imports the collection, this leaves the copy alone.
import ansible_collections.ray_docker as _namespace  # noqa: E402

_namespace.__path__ = [os.path.join(os.environ["MUTATE_COLLECTIONS"], "ansible_collections", "ray_docker")]


def pytest_runtest_logreport(report):
    if report.failed and state["first_failure"] is None:
        state["first_failure"] = report.nodeid + ("" if report.when == "call" else f" ({report.when})")


def pytest_collectreport(report):
    if report.failed and state["first_failure"] is None:
        state["first_failure"] = f"{report.nodeid or 'collection'} (collection error)"


def pytest_sessionfinish(session, exitstatus):
    foreign, imported = [], 0
    for name, module in sorted(sys.modules.items()):
        if not any(name == prefix or name.startswith(prefix + ".") for prefix in PREFIXES):
            continue
        # a module's file; a namespace package's first portion (the one its submodules are found in first)
        where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", None) or []), None)
        if where:
            imported += 1
            if not Path(where).resolve().is_relative_to(COPY):
                foreign.append(f"{name}: {where}")
    package = sys.modules.get("ansible_collections.ray_docker.cluster")
    with open(os.environ["MUTATE_REPORT"], "w", encoding="utf-8") as handle:
        if state["late"]:
            foreign.insert(0, "ansible_collections.ray_docker.cluster was imported before the probe could pin it")
        json.dump({"first_failure": state["first_failure"], "foreign": foreign, "imported": imported,
                   "cluster_path": [str(Path(p).resolve()) for p in getattr(package, "__path__", [])],
                   "exitstatus": int(exitstatus)}, handle)
'''


class NotApplicable(ValueError):
    """The mutation's original text is not found exactly once in its file."""


class ListError(ValueError):
    """tests/mutations.json is not a valid list of mutations."""


def apply_mutation(text, original, replacement):
    """`text` with the one occurrence of `original` (a whole line's text or a part of one line) replaced; raises
    NotApplicable when it occurs zero or several times (the list has rotted: the code changed under it)."""
    if not original or "\n" in original or "\n" in replacement:
        raise NotApplicable("original and replacement must be non-empty text within one line")
    count = text.count(original)
    if count != 1:
        raise NotApplicable(f"the original text is found {count} times, not once")
    if original == replacement:
        raise NotApplicable("the replacement is the original: nothing would change")
    return text.replace(original, replacement, 1)


def changed_line(text, original):
    """(line number from 1, the line's text) holding `original`."""
    before = text[: text.index(original)]
    number = before.count("\n") + 1
    return number, text.splitlines()[number - 1]


def parse_mutations(text):
    """The mutations of mutations.json's text, validated: raises ListError naming what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ListError(f"not valid JSON: {exc}")
    mutations = data.get("mutations") if isinstance(data, dict) else None
    if not isinstance(mutations, list) or not mutations:
        raise ListError('expected {"mutations": [...]} with at least one mutation')
    seen = set()
    for index, mutation in enumerate(mutations):
        where = f"mutation {index + 1}" + (f" ({mutation.get('id')})" if isinstance(mutation, dict) else "")
        if not isinstance(mutation, dict):
            raise ListError(f"{where}: not a mapping")
        missing = [key for key in REQUIRED if not isinstance(mutation.get(key), str) or not mutation[key]]
        if missing:
            raise ListError(f"{where}: {', '.join(missing)} must be non-empty text")
        unknown = sorted(set(mutation) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise ListError(f"{where}: unknown keys {', '.join(unknown)}")
        if mutation["id"] in seen:
            raise ListError(f"{where}: the id is used twice")
        seen.add(mutation["id"])
        if "expected" in mutation:
            if mutation["expected"] != "survives":
                raise ListError(f'{where}: "expected" can only be "survives"')
            if not str(mutation.get("why") or "").strip():
                raise ListError(f'{where}: "expected": "survives" needs a "why"')
        elif "why" in mutation:
            raise ListError(f'{where}: "why" goes with "expected": "survives" only')
        if Path(mutation["file"]).is_absolute() or ".." in Path(mutation["file"]).parts:
            raise ListError(f"{where}: file must be relative to the checkout")
    return mutations


def select(mutations, only):
    """The mutations named in `only` (ids, comma-separated allowed), in list order; all when `only` is empty."""
    wanted = [item for value in only or [] for item in value.split(",") if item]
    unknown = [item for item in wanted if item not in {mutation["id"] for mutation in mutations}]
    if unknown:
        raise ListError(f"no mutation with the id {', '.join(unknown)}")
    return [mutation for mutation in mutations if not wanted or mutation["id"] in wanted]


def outcome(returncode, timed_out=False):
    """killed when the unit layer failed (or ran past its timeout), survived when it passed."""
    return KILLED if timed_out or returncode != 0 else SURVIVED


def summarize(results):
    """The score of a run: counts, the survivors (unexpected and expected), what did not apply, what was in error."""
    by = {status: [result for result in results if result["status"] == status]
          for status in (KILLED, SURVIVED, NOT_APPLICABLE, ERROR)}
    applied = len(by[KILLED]) + len(by[SURVIVED])
    return {
        "total": len(results), "applied": applied, "killed": len(by[KILLED]), "survived": len(by[SURVIVED]),
        "not_applicable": [result["id"] for result in by[NOT_APPLICABLE]],
        "errors": [result["id"] for result in by[ERROR]],
        "survivors": [result["id"] for result in by[SURVIVED] if not result.get("expected")],
        "expected_survivors": [result["id"] for result in by[SURVIVED] if result.get("expected")],
        "killed_but_expected_to_survive": [result["id"] for result in by[KILLED] if result.get("expected")],
        "seconds": round(sum(result.get("seconds") or 0 for result in results), 1),
    }


def exit_status(summary, strict=False):
    """0 when every applied mutation was killed or is expected to survive (and, with strict, every one applied and
    none expected to survive was killed); 1 otherwise; 2 when a run could not be judged."""
    if summary["errors"]:
        return 2
    if summary["survivors"]:
        return 1
    if strict and (summary["not_applicable"] or summary["killed_but_expected_to_survive"]):
        return 1
    return 0


def result_line(result):
    """One line of the report: id, status, seconds, the first failing test or the reason."""
    status = result["status"]
    if status == SURVIVED and result.get("expected"):
        status = "survived (expected)"
    detail = result.get("detail") or ""
    seconds = f"{result['seconds']:6.1f}s" if result.get("seconds") is not None else "      -"
    return f"{result['id']:<44} {status:<20} {seconds}  {detail}".rstrip()


def summary_lines(summary):
    lines = [f"score: {summary['killed']} killed / {summary['applied']} applied "
             f"({summary['total']} in the list; {summary['seconds']} s of test runs)"]
    if summary["survivors"]:
        lines.append(f"SURVIVED, no unit test notices: {', '.join(summary['survivors'])}")
    if summary["expected_survivors"]:
        lines.append(f"survived as expected (see their why): {', '.join(summary['expected_survivors'])}")
    if summary["killed_but_expected_to_survive"]:
        lines.append(f"killed although marked expected to survive (drop the mark): "
                     f"{', '.join(summary['killed_but_expected_to_survive'])}")
    if summary["not_applicable"]:
        lines.append(f"NOT APPLICABLE (the code changed under them: update tests/mutations.json): "
                     f"{', '.join(summary['not_applicable'])}")
    if summary["errors"]:
        lines.append(f"ERROR (not judged): {', '.join(summary['errors'])}")
    return lines


# ----- running ------------------------------------------------------------------------------------------------------

def checkout_files(root):
    """The checkout's files (relative paths): git's tracked and untracked ones, ignored ones left out; None when git
    cannot say."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({name for name in out.decode("utf-8", "surrogateescape").split("\0") if name})


def snapshot(root, destination):
    """Copy the checkout's files into `destination` (which must not exist)."""
    files = checkout_files(root)
    if files is None:
        shutil.copytree(root, destination, symlinks=True, ignore=shutil.ignore_patterns(*IGNORED))
        return
    destination.mkdir(parents=True)
    for name in files:
        source = root / name
        if not source.exists() and not source.is_symlink():  # deleted in the work tree, still in git's index
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)


class Workspace:
    """A temporary directory holding the snapshot of the checkout, the copy a run mutates, the collections path
    that links the collection to that copy, and the probe plugin."""

    def __init__(self, root, keep=False):
        self.root = root
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="ray-docker-mutate-"))
        self.base = self.dir / "snapshot"
        self.work = self.dir / "work"
        self.collections = self.dir / "collections"
        self.plugins = self.dir / "plugins"
        self.report = self.dir / "report.json"
        try:
            snapshot(root, self.base)
            link = self.collections.joinpath("ansible_collections", *COLLECTION)
            link.parent.mkdir(parents=True)
            link.symlink_to(self.work, target_is_directory=True)
            self.plugins.mkdir()
            (self.plugins / "_mutate_probe.py").write_text(PROBE, encoding="utf-8")
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def fresh_copy(self):
        if self.work.exists():
            shutil.rmtree(self.work)
        shutil.copytree(self.base, self.work, symlinks=True)

    def environment(self):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("PYTEST_") and key not in ("PY_IGNORE_IMPORTMISMATCH", "PYTHONPATH")}
        env.update(PYTHONPATH=os.pathsep.join([str(self.collections), str(self.plugins)]),
                   ANSIBLE_COLLECTIONS_PATH=str(self.collections), PYTHONDONTWRITEBYTECODE="1",
                   MUTATE_COPY=str(self.work), MUTATE_REPORT=str(self.report), MUTATE_COLLECTIONS=str(self.collections))
        return env

    def close(self):
        if self.keep:
            print(f"mutate: kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def pytest_command(python, ignore=()):
    """The unit layer's command in a copy; `ignore`: test paths left out (pytest's --ignore)."""
    return [str(python), *PYTEST[:-1], *(f"--ignore={path}" for path in ignore), PYTEST[-1]]


def run_tests(workspace, python, timeout, ignore=()):
    """Run the unit layer in the workspace's copy: (returncode, timed_out, seconds, probe report, output tail)."""
    if workspace.report.exists():
        workspace.report.unlink()
    started = time.monotonic()
    process = subprocess.Popen(pytest_command(python, ignore), cwd=workspace.work, env=workspace.environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    seconds = round(time.monotonic() - started, 1)
    try:
        probe = json.loads(workspace.report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        probe = None
    tail = output.decode("utf-8", "replace").strip().splitlines()[-15:]
    return process.returncode, timed_out, seconds, probe, tail


def first_failure_from_output(tail):
    for line in tail:
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0]
    return tail[-1] if tail else ""


def judge(mutation, workspace, python, timeout, ignore=()):
    """Apply one mutation to a fresh copy, run the unit layer, and say what happened."""
    result = {key: mutation[key] for key in ("id", "file", "breaks")}
    if mutation.get("expected"):
        result.update(expected=mutation["expected"], why=mutation.get("why"))
    workspace.fresh_copy()
    path = workspace.work / mutation["file"]
    try:
        text = path.read_text(encoding="utf-8")
        result["line"] = changed_line(text, mutation["original"])[0] if text.count(mutation["original"]) == 1 else None
        path.write_text(apply_mutation(text, mutation["original"], mutation["replacement"]), encoding="utf-8")
    except FileNotFoundError:
        return dict(result, status=NOT_APPLICABLE, seconds=None, detail=f"{mutation['file']} does not exist")
    except NotApplicable as exc:
        return dict(result, status=NOT_APPLICABLE, seconds=None, detail=f"{mutation['file']}: {exc}")
    returncode, timed_out, seconds, probe, tail = run_tests(workspace, python, timeout, ignore)
    result.update(seconds=seconds, returncode=returncode)
    if probe is None and not timed_out:
        return dict(result, status=ERROR, detail="pytest ended without the probe's report: "
                    + (" | ".join(tail[-3:]) or f"exit status {returncode}"))
    if probe and probe["foreign"]:
        return dict(result, status=ERROR, detail=f"imported from outside the copy: {'; '.join(probe['foreign'][:3])}")
    if returncode == 4:  # pytest's usage error: the command, not the mutation
        return dict(result, status=ERROR, detail=" | ".join(tail[-3:]))
    status = outcome(returncode, timed_out)
    if timed_out:
        detail = f"timed out after {timeout} s"
    elif status == KILLED:
        detail = (probe or {}).get("first_failure") or first_failure_from_output(tail)
    else:
        detail = ""
    return dict(result, status=status, detail=detail)


def preflight(workspace, python, timeout, say, ignore=()):
    """The baseline (the unmutated copy passes, and imports only the copy) and the canary (a break of the copy is
    killed). Returns the reason the runs cannot be trusted, or None."""
    workspace.fresh_copy()
    returncode, timed_out, seconds, probe, tail = run_tests(workspace, python, timeout, ignore)
    if timed_out or returncode != 0 or not probe:
        return (f"the unmutated copy does not pass the unit layer (exit status {returncode}"
                f"{', timed out' if timed_out else ''}), so no kill would mean anything:\n  " + "\n  ".join(tail))
    if probe["foreign"]:
        return "the tests imported modules from outside the copy:\n  " + "\n  ".join(probe["foreign"][:10])
    if not probe["cluster_path"] or not Path(probe["cluster_path"][0]).is_relative_to(workspace.work.resolve()):
        return f"{PACKAGE}.__path__ does not start in the copy: {probe['cluster_path']}"
    say(f"baseline: the unmutated copy passes in {seconds} s, {probe['imported']} modules imported, all from the copy "
        f"({PACKAGE}.__path__[0] = {probe['cluster_path'][0]})")
    canary = judge(CANARY, workspace, python, timeout, ignore)
    if canary["status"] != KILLED:
        return f"the canary break ({CANARY['file']}: {CANARY['replacement']}) was not killed: {canary}"
    say(f"canary: {CANARY['replacement']} in {CANARY['file']} killed in {canary['seconds']} s ({canary['detail']})")
    return None


def dry_run(mutations, root):
    """Whether each mutation still applies to the checkout as it is (nothing is run or written)."""
    results = []
    for mutation in mutations:
        result = {"id": mutation["id"], "file": mutation["file"], "seconds": None}
        try:
            text = (root / mutation["file"]).read_text(encoding="utf-8")
            apply_mutation(text, mutation["original"], mutation["replacement"])
            number, _ = changed_line(text, mutation["original"])
            results.append(dict(result, status="applies", detail=f"line {number}"))
        except FileNotFoundError:
            results.append(dict(result, status=NOT_APPLICABLE, detail=f"{mutation['file']} does not exist"))
        except NotApplicable as exc:
            results.append(dict(result, status=NOT_APPLICABLE, detail=str(exc)))
    return results


def main(argv):
    parser = argparse.ArgumentParser(prog="python3 -m tests.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="ID", help="run only these mutations")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--dry-run", action="store_true", help="only check that every mutation applies")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--strict", action="store_true", help="a mutation that does not apply fails the run")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                        help=f"per test run (default {TIMEOUT})")
    parser.add_argument("--mutations", type=Path, default=MUTATIONS, metavar="FILE", help="the list (JSON)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--ignore", action="append", default=[], metavar="PATH",
                        help="leave these tests out of every run (pytest's --ignore), e.g. a folder someone's "
                             "unfinished work breaks in the work tree; the baseline says so when one is needed")
    args = parser.parse_args(argv)
    out = sys.stderr if args.json else sys.stdout

    def say(text):
        print(text, file=out, flush=True)

    try:
        mutations = select(parse_mutations(args.mutations.read_text(encoding="utf-8")), args.only)
    except (OSError, ListError) as exc:
        print(f"mutate: {args.mutations}: {exc}", file=sys.stderr)
        return 2
    if args.list:
        if args.json:
            print(json.dumps(mutations, indent=2))
        for mutation in mutations:
            mark = "  [expected to survive]" if mutation.get("expected") else ""
            say(f"{mutation['id']:<44} {mutation['file']}{mark}\n    {mutation['breaks']}")
        return 0
    if args.dry_run:
        results = dry_run(mutations, ROOT)
        for result in results:
            say(f"{result['id']:<44} {result['status']:<15} {result['file']}: {result['detail']}")
        missing = [result["id"] for result in results if result["status"] == NOT_APPLICABLE]
        if args.json:
            print(json.dumps({"results": results, "not_applicable": missing}, indent=2))
        return 1 if missing else 0
    if not VENV_PYTHON.exists():
        print(f"mutate: {VENV_PYTHON} does not exist: run `python3 -m tests -m unit` once to build .venv", file=sys.stderr)
        return 2

    started = time.monotonic()
    workspace = Workspace(ROOT, keep=args.keep)
    try:
        say(f"mutate: {len(mutations)} mutation(s) on a snapshot of {ROOT} in {workspace.dir}")
        if args.ignore:
            say(f"mutate: leaving out {', '.join(args.ignore)}")
        problem = preflight(workspace, VENV_PYTHON, args.timeout, say, args.ignore)
        if problem:
            print(f"mutate: cannot judge mutations: {problem}", file=sys.stderr)
            return 2
        results = []
        for mutation in mutations:
            result = judge(mutation, workspace, VENV_PYTHON, args.timeout, args.ignore)
            results.append(result)
            say(result_line(result))
    except KeyboardInterrupt:
        print("mutate: interrupted", file=sys.stderr)
        return 130
    finally:
        workspace.close()
    summary = summarize(results)
    summary["wall_seconds"] = round(time.monotonic() - started, 1)
    for line in summary_lines(summary):
        say(line)
    say(f"wall time {summary['wall_seconds']} s (with the baseline and the canary)")
    status = exit_status(summary, args.strict)
    if args.json:
        print(json.dumps({"summary": summary, "results": results, "exit_status": status}, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
