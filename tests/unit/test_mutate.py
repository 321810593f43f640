"""The mutation check's own logic (tests/mutate.py): applying a one-line break, the exactly-once rule that keeps the
list from rotting silently, the list's validation, the verdicts and the exit status."""

import json
from pathlib import Path

import pytest

from tests import mutate

ROOT = Path(__file__).resolve().parents[2]
TEXT = "a = 1\nif low >= high:\n    fail()\nb = 2\n"


def mutation(**changes):
    return dict({"id": "m", "file": "plugins/x.py", "original": "if low >= high:", "replacement": "if low > high:",
                 "breaks": "A range of one port passes."}, **changes)


def test_a_mutation_replaces_its_one_occurrence_and_nothing_else():
    assert mutate.apply_mutation(TEXT, "if low >= high:", "if low > high:") == TEXT.replace(">=", ">")
    assert mutate.apply_mutation(TEXT, ">=", "<") == "a = 1\nif low < high:\n    fail()\nb = 2\n", "a part of a line"
    assert mutate.changed_line(TEXT, ">=") == (2, "if low >= high:")


@pytest.mark.parametrize("original, replacement, reason", [
    ("if low > high:", "x", "found 0 times"),
    (" = ", " == ", "found 2 times"),
    ("fail()\nb", "x", "within one line"),
    ("fail()", "fail()\nfail()", "within one line"),
    ("", "x", "within one line"),
    ("fail()", "fail()", "nothing would change"),
])
def test_a_mutation_that_is_not_found_exactly_once_is_not_applicable(original, replacement, reason):
    with pytest.raises(mutate.NotApplicable, match=reason):
        mutate.apply_mutation(TEXT, original, replacement)


def test_the_list_is_validated():
    text = json.dumps({"mutations": [mutation(), mutation(id="n", expected="survives", why="e2e only: a timing")]})
    assert [item["id"] for item in mutate.parse_mutations(text)] == ["m", "n"]


@pytest.mark.parametrize("mutations, needle", [
    ([mutation(), mutation()], "the id is used twice"),
    ([mutation(breaks="")], "breaks must be non-empty"),
    ([{"id": "m"}], "file, original, replacement, breaks must be non-empty"),
    ([mutation(expected="survives")], 'needs a "why"'),
    ([mutation(expected="killed", why="x")], '"expected" can only be "survives"'),
    ([mutation(why="because")], '"why" goes with'),
    ([mutation(extra=1)], "unknown keys extra"),
    ([mutation(file="/work/main/runner.py")], "relative to the checkout"),
    ([mutation(file="../elsewhere.py")], "relative to the checkout"),
    ([], "at least one mutation"),
])
def test_a_bad_list_is_refused_saying_what_is_wrong(mutations, needle):
    with pytest.raises(mutate.ListError, match=needle):
        mutate.parse_mutations(json.dumps({"mutations": mutations}))


def test_the_projects_list_is_valid():
    mutations = mutate.parse_mutations((ROOT / "tests" / "mutations.json").read_text(encoding="utf-8"))
    assert len(mutations) >= 24


def test_only_selects_by_id_in_list_order():
    mutations = [mutation(id="a"), mutation(id="b"), mutation(id="c")]
    assert [item["id"] for item in mutate.select(mutations, ["c,a"])] == ["a", "c"]
    assert mutate.select(mutations, []) == mutations
    with pytest.raises(mutate.ListError, match="no mutation with the id d"):
        mutate.select(mutations, ["d"])


def test_a_failing_or_timed_out_run_kills_a_passing_one_lets_it_survive():
    assert mutate.outcome(1) == mutate.outcome(2) == mutate.KILLED
    assert mutate.outcome(0, timed_out=True) == mutate.KILLED
    assert mutate.outcome(0) == mutate.SURVIVED


def result(id, status, expected=None, seconds=5.0):
    return {"id": id, "status": status, "seconds": seconds, **({"expected": expected} if expected else {})}


def test_the_score_counts_the_applied_mutations_and_names_the_survivors():
    summary = mutate.summarize([result("a", "killed"), result("b", "survived"), result("c", "survived", "survives"),
                                result("d", "not applicable", seconds=None), result("e", "killed", "survives")])
    assert (summary["killed"], summary["applied"], summary["total"]) == (2, 4, 5)
    assert summary["survivors"] == ["b"] and summary["expected_survivors"] == ["c"]
    assert summary["not_applicable"] == ["d"] and summary["killed_but_expected_to_survive"] == ["e"]
    assert summary["seconds"] == 20.0
    assert mutate.summary_lines(summary)[0] == "score: 2 killed / 4 applied (5 in the list; 20.0 s of test runs)"


@pytest.mark.parametrize("results, strict, status", [
    ([result("a", "killed"), result("b", "survived", "survives")], False, 0),
    ([result("a", "killed"), result("b", "survived")], False, 1),
    ([result("a", "killed"), result("d", "not applicable", seconds=None)], False, 0),
    ([result("a", "killed"), result("d", "not applicable", seconds=None)], True, 1),
    ([result("a", "killed"), result("e", "killed", "survives")], True, 1),
    ([result("a", "killed"), result("x", "error")], False, 2),
])
def test_the_exit_status_is_0_only_when_every_mutation_is_accounted_for(results, strict, status):
    assert mutate.exit_status(mutate.summarize(results), strict) == status


def test_a_result_line_names_the_mutation_its_fate_its_time_and_the_first_failing_test():
    line = mutate.result_line(dict(result("ports-x", "killed", seconds=6.54), detail="tests/unit/test_p.py::test_q"))
    assert line.split() == ["ports-x", "killed", "6.5s", "tests/unit/test_p.py::test_q"]
    assert "survived (expected)" in mutate.result_line(result("y", "survived", "survives"))
    assert mutate.result_line(result("z", "not applicable", seconds=None)).split()[-1] == "-"


def test_the_unit_layer_runs_in_the_copy_stopping_at_the_first_failure_without_a_cache():
    command = mutate.pytest_command("/venv/bin/python", ["tests/unit/plugins/action"])
    assert command[:3] == ["/venv/bin/python", "-m", "pytest"] and command[-1] == "tests/unit"
    assert {"-x", "no:cacheprovider", "--ignore=tests/unit/plugins/action"} <= set(command)
    assert command[command.index("-m", 3) + 1] == "unit"


def test_a_snapshot_outside_git_leaves_out_the_environment_and_caches(tmp_path):
    source = tmp_path / "checkout"
    for name in ("runner.py", "plugins/a.py", ".venv/bin/python", "plugins/__pycache__/a.pyc", ".git/HEAD"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(name)
    mutate.snapshot(source, tmp_path / "copy")
    assert sorted(str(path.relative_to(tmp_path / "copy")) for path in (tmp_path / "copy").rglob("*")
                  if path.is_file()) == ["plugins/a.py", "runner.py"]
