"""Every variable has a type and a range or pattern (plugins/module_utils/settings.py, roles/*/meta/validation.yml)."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.ray_docker.cluster.plugins.module_utils import settings

ROOT = Path(__file__).resolve().parents[4]
ROLES = sorted(path.parent.parent.name for path in ROOT.glob("roles/*/meta/argument_specs.yml"))


def role_files(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = {}
    for entry in specs["argument_specs"].values():  # every entry point (wait, down, ...): none escapes the check
        for name, option in (entry.get("options") or {}).items():
            options.setdefault(name, option)
    rules = yaml.safe_load((ROOT / "roles" / role / "meta" / "validation.yml").read_text())
    rules.pop("_hosts", None)  # the host groups the role's checks apply to
    return options, rules


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_has_a_rule_and_every_rule_a_variable(role):
    options, rules = role_files(role)
    assert sorted(options) == sorted(rules), f"{role}: argument_specs.yml and validation.yml must list the same variables"
    for name, rule in rules.items():
        spec = options[name]
        typed = spec.get("type") in ("bool",) or spec.get("choices")
        assert typed or rule, f"{role}: {name} needs a range, a pattern or a kind in validation.yml"
        for key in rule:
            assert key in {"kind", "pattern", "allowed", "range", "size_range", "empty", "nullable", "items", "unique",
                           "keys", "values", "secret"}, f"{name}: unknown rule key {key}"
        if "kind" in rule:
            assert rule["kind"] in settings.KINDS


@pytest.mark.parametrize("role", ROLES)
def test_every_default_passes_its_own_rule(role):
    options, rules = role_files(role)
    for name, spec in options.items():
        if "default" not in spec or "{{" in str(spec["default"]) or "<" in str(spec["default"]):
            continue
        if rules[name].get("kind") == "control_file":  # depends on the control node, not on the default
            continue
        _, errors = settings.check_variable(name, spec["default"], spec, rules[name])
        assert errors == [], errors


@pytest.mark.parametrize("value, spec, rule, needle", [
    (-1, {"type": "int"}, {"range": "[0, 1024]", "nullable": True}, "ray_x=-1: must be in [0, 1024]"),
    ("abc", {"type": "int"}, {"range": "[1, 65535]"}, "ray_x='abc': must be a whole number"),
    (1.5, {"type": "int"}, {}, "must be a whole number"),
    (True, {"type": "int"}, {}, "must be a whole number"),
    (1.5, {"type": "float"}, {"range": "(0, 1]"}, "ray_x=1.5: must be in (0, 1]"),
    (0, {"type": "float"}, {"range": "(0, 1]"}, "must be in (0, 1]"),
    ("maybe", {"type": "bool"}, {}, "ray_x='maybe': must be true or false"),
    ("bogus", {"type": "str", "choices": ["auto", "host"]}, {}, "must be one of auto, host"),
    ("4 gigs", {"type": "str"}, {"kind": "size", "empty": True}, "must be a size such as 512M"),
    ("32M", {"type": "str"}, {"kind": "size", "size_range": "[128M, )", "empty": True}, "must be [128M, )"),
    ("10.0.0.300", {"type": "str"}, {"kind": "ip", "empty": True}, "must be an IPv4 or IPv6 address"),
    ("mirror:5000/path", {"type": "str"}, {"kind": "mirror_url"}, "scheme://host[:port]"),
    ("https://m.example/v2", {"type": "str"}, {"kind": "mirror_url"}, "no path"),
    ("relative/file", {"type": "path"}, {"kind": "absolute_path"}, "must be an absolute path"),
    ("-bad", {"type": "str"}, {"kind": "docker_name"}, "must be a Docker object name"),
    ("/no/such/archive.tar", {"type": "str"}, {"kind": "control_file", "empty": True}, "exists on the control node"),
    ("[\"a\"]", {"type": "list", "elements": "str"}, {}, "not a string (`-e key=value` passes a string; pass it as JSON: -e '{\"ray_x\": [...]}')"),
    (["x", "x"], {"type": "list", "elements": "str"}, {"unique": True}, "must not repeat an entry"),
    (["--ok", "nope"], {"type": "list", "elements": "str"}, {"items": {"kind": "ray_flag"}}, "ray_x[1]='nope'"),
    ({"1BAD": "v"}, {"type": "dict"}, {"keys": {"kind": "env_name"}}, "ray_x key '1BAD': must be an environment"),
    (None, {"type": "int"}, {"range": "[0, 4]"}, "ray_x=null: must be set"),
    ("s3cr3t", {"type": "str"}, {"pattern": "x+", "secret": True}, "ray_x=<hidden>"),
])
def test_bad_values_are_refused_naming_the_variable_and_what_is_allowed(value, spec, rule, needle):
    _, errors = settings.check_variable("ray_x", value, spec, rule)
    assert any(needle in error for error in errors), errors


def test_a_secret_is_never_shown():
    _, errors = settings.check_variable("pw", "s3cr3t", {"type": "str"}, {"pattern": "x+", "secret": True})
    assert errors and not any("s3cr3t" in error for error in errors)


@pytest.mark.parametrize("value, spec, rule", [
    (None, {"type": "int"}, {"range": "[0, 4]", "nullable": True}),
    ("3", {"type": "int"}, {"range": "[1, 65535]"}),              # -e key=value hands a string over
    ("", {"type": "str"}, {"kind": "size", "empty": True}),
    ("2G", {"type": "str"}, {"kind": "size", "size_range": "[128M, )"}),
    ("fe80::1", {"type": "str"}, {"kind": "ip"}),
    ("10.0.0.0/8", {"type": "str"}, {"kind": "registry"}),
    ("mirror.lab:5000", {"type": "str"}, {"kind": "registry"}),
    ("http://10.0.0.10:5000", {"type": "str"}, {"kind": "mirror_url"}),
    ("--resources={\"x\": 1}", {"type": "str"}, {"kind": "ray_flag"}),
    (r"C:\WSL\ray", {"type": "str"}, {"kind": "windows_path"}),
])
def test_good_values_pass(value, spec, rule):
    assert settings.check_variable("ray_x", value, spec, rule)[1] == []


def test_check_settings_only_checks_what_is_given():
    typed, errors = settings.check_settings({"a": {"type": "int"}, "b": {"type": "int"}}, {"a": {"range": "[0, 1]"}}, {"a": "1"})
    assert typed == {"a": 1} and errors == []


def test_ranges():
    assert settings.describe_range("[0, )") == ">= 0"
    assert settings.describe_range("(0, 1]") == "in (0, 1]"
    assert settings.in_range(1, "(0, 1]") and not settings.in_range(0, "(0, 1]")
    with pytest.raises(ValueError):
        settings.parse_range("0..1")


def test_a_bad_boolean_says_so_in_one_clean_sentence():
    assert settings.check_variable("ray_x", "nope", {"type": "bool"}, {})[1] == ["ray_x='nope': must be true or false"]
