"""runner.py's arguments: verbs, options and the three extra-vars forms."""

import json
import re

import pytest

from raydeploy import cli


def test_defaults_use_the_embedded_inventory():
    args = cli.parse_args(["site"])
    assert args.playbook.name == "site.yml" and args.playbook.exists()
    assert args.inventory == [str(cli.ROOT / "inventory" / "localhost.yml")]
    assert (args.extravars, args.limit, args.tags, args.check, args.diff, args.json) == ({}, None, None, False, False, False)


def test_every_verb_has_a_playbook():
    for verb in cli.VERBS:
        assert cli.parse_args([verb, *(["h1"] if verb == "drain" else [])]).playbook.exists(), verb


def test_options(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all: {}\n")
    args = cli.parse_args(["cluster", "-i", str(inventory), "-l", "w1", "-t", "cluster", "--check", "--diff", "-vv", "--json"])
    assert args.inventory == [str(inventory)]
    assert (args.limit, args.tags, args.check, args.diff, args.verbose, args.json) == ("w1", "cluster", True, True, 2, True)


def test_unknown_verb_and_missing_inventory_are_user_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(["deploy"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'deploy'" in capsys.readouterr().err
    with pytest.raises(cli.UserError, match="-i /nonexistent.yml: no such inventory"):
        cli.parse_args(["site", "-i", "/nonexistent.yml"])


def test_extra_vars_key_value_json_yaml_and_file(tmp_path):
    (tmp_path / "vars.yml").write_text("ray_cluster_name: lab\ndocker_registry_mirrors:\n  - http://m:5000\n")
    (tmp_path / "vars.json").write_text(json.dumps({"ray_check_timeout": 60}))
    merged = cli.parse_extra_vars(
        ["a=1 b='two words'", '{"docker_registry_mirrors": ["http://x:5000"], "n": 3}', "{c: yes}", "@vars.yml", "@vars.json"],
        base_dir=tmp_path,
    )
    assert merged == {"a": "1", "b": "two words", "n": 3, "c": True, "ray_cluster_name": "lab",
                      "docker_registry_mirrors": ["http://m:5000"], "ray_check_timeout": 60}


@pytest.mark.parametrize("pair, expected", [
    ("ray_gcs_fault_tolerance=false", False),     # bool: Ansible's words
    ("ray_monitoring_enabled=No", False),
    ("ray_check_reuse_verdict=yes", True),
    ("ray_cluster_head_num_cpus=0", 0),           # int
    ("ray_cluster_object_store_fraction=0.3", 0.3),  # float
    ("ray_gcs_fault_tolerance=maybe", "maybe"),   # left for the settings check to refuse
    ("ray_cluster_head_num_cpus=two", "two"),
    ("ray_version=2.60", "2.60"),                 # a string variable stays a string
    ("not_a_role_variable=false", "false"),
])
def test_key_value_gives_boolean_and_numeric_variables_their_type(pair, expected):
    value = cli.parse_extra_vars([pair])[pair.split("=")[0]]
    assert value == expected and type(value) is type(expected)


def test_later_extra_vars_win():
    assert cli.parse_extra_vars(["x=1", "x=2"]) == {"x": "2"}


@pytest.mark.parametrize("value, needle", [
    ("novalue", "expected key=value"),
    ("1x=2", "expected key=value"),
    ("[1, 2]", "must be a mapping"),
    ("{broken", "neither JSON nor YAML"),
    ("@missing.yml", "cannot read"),
    ("", "needs a value"),
])
def test_bad_extra_vars_are_explained(tmp_path, value, needle):
    with pytest.raises(cli.UserError, match=needle):
        cli.parse_extra_vars([value], base_dir=tmp_path)


@pytest.mark.parametrize("extra, needle", [
    ("ray_node_cont=5", "ray_node_cont is no variable of any role: did you mean ray_node_count?"),
    ('{"docker_registry_mirror": ["http://10.0.0.10:5000"]}', "did you mean docker_registry_mirrors?"),
    ("wsl2_rootfs_url=https://example.com/x.wsl", "wsl2_rootfs_url was renamed in 1.0.0: use wsl2_rootfs_urls"),
    ("ray_cluster_plan=x", "ray_cluster_plan is set by the roles themselves"),
])
def test_an_unknown_or_removed_extra_var_name_is_refused_before_ansible_starts(extra, needle):
    with pytest.raises(cli.UserError, match=re.escape(needle)):
        cli.parse_args(["preflight", "-e", extra])


def test_known_names_and_declared_foreign_ones_pass():
    args = cli.parse_args(["preflight", "-e", "ray_node_count=2", "-e",
                           '{"preflight_foreign_variables": ["docker_users"], "docker_users": ["ann"]}'])
    assert args.extravars["ray_node_count"] == 2 and args.extravars["docker_users"] == ["ann"]


def test_drain_takes_one_host_and_a_deadline_and_no_other_verb_takes_a_host():
    args = cli.parse_args(["drain", "raylab-host-2", "--deadline", "20"])
    assert args.playbook.name == "drain.yml"
    assert args.extravars == {"ray_cluster_drain_host": "raylab-host-2", "ray_cluster_drain_deadline": 20}
    assert cli.parse_args(["drain", "h2"]).extravars == {"ray_cluster_drain_host": "h2"}
    for argv in (["drain"], ["site", "h2"], ["site", "--deadline", "5"]):
        with pytest.raises(cli.UserError, match="drain takes a host"):
            cli.parse_args(argv)
