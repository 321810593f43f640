"""Every variable of every role checked before anything changes: type, range or pattern, cross-checks.

Types come from each role's meta/argument_specs.yml; ranges and patterns from its meta/validation.yml
(ansible-lint's schema allows no extra keys in argument specs). The preflight's ray_settings_check
action runs `check_settings` on every host with that host's values; each message names the variable,
shows the value (never a secret's) and says what is allowed.

A rule in validation.yml is a mapping with any of:
  kind     a named pattern (KINDS below), e.g. size, ip, docker_name, mirror_url
  pattern  a regular expression, with `allowed:` saying in words what it accepts
  range    an interval of numbers: "[1, 65535]", "(0, 1]", "[0, )"
  empty    true: "" is allowed too (a str that means "not set")
  nullable true: null (unset) is allowed too
  items    a rule for each element of a list (plus `unique: true` for the list itself)
  keys, values   rules for the keys and values of a dict
  secret   true: the value never appears in a message
"""

import ipaddress
import json
import os
import re
import socket
from urllib.parse import urlsplit

from ansible_collections.ray_docker.cluster.plugins.module_utils import derived_image

try:
    from ansible.module_utils.common.text.formatters import human_to_bytes
    from ansible.module_utils.common.validation import (check_type_bool, check_type_dict, check_type_float,
                                                        check_type_int, check_type_list)
except ImportError:  # pragma: no cover - the project always runs with ansible-core installed
    raise

HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$")
# kind: (test(value) -> bool, what is allowed)
KINDS = {
    "docker_name": (lambda v: re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}", v),
                    "a Docker object name: letters, digits, _ . - (starting with a letter or digit), at most 63"),
    "image_repository": (lambda v: re.fullmatch(r"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*"
                                                r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*", v),
                         "an image repository such as rayproject/ray or registry.example:5000/ray"),
    "image_tag": (lambda v: re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", v), "an image tag (letters, digits, _ . -)"),
    "version": (lambda v: re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+(?:[.+-]?[A-Za-z0-9.]+)?", v), "a version such as 2.60.0"),
    "size": (lambda v: _size(v) is not None, "a size such as 512M, 4G or 4294967296 (bytes)"),
    "ip": (lambda v: _is_ip(v), "an IPv4 or IPv6 address"),
    "host": (lambda v: _is_ip(v) or HOSTNAME.match(v), "an IPv4/IPv6 address or a host name"),
    "mirror_url": (lambda v: _url(v, path=False), "scheme://host[:port] with scheme http or https and no path"),
    "url": (lambda v: _url(v, path=True), "an http:// or https:// URL"),
    "registry": (lambda v: _registry(v), "host[:port] or a CIDR such as 10.0.0.0/8"),
    "firewall_address": (lambda v: _firewall_address(v),
                         "an IP address, a subnet such as 10.0.0.0/24, a range such as 10.0.0.5-10.0.0.9, or LocalSubnet"),
    "absolute_path": (lambda v: v.startswith("/") and "\0" not in v, "an absolute path"),
    "control_file": (lambda v: os.path.isfile(os.path.expanduser(v)), "a file that exists on the control node"),
    "package": (lambda v: re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", v), "a Debian package name"),
    "env_name": (lambda v: re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v), "an environment variable name"),
    "ray_flag": (lambda v: re.fullmatch(r"--[a-z][a-z0-9-]*(=.*)?", v, re.S), "a `ray start` flag such as --foo=bar"),
    "windows_path": (lambda v: re.fullmatch(r"(?:[A-Za-z]:\\|%[A-Za-z_]+%\\?)[^\0<>\"|?*]*", v),
                     r"an absolute Windows path such as C:\WSL\ray or %USERPROFILE%\wsl"),
    "sha256": (lambda v: re.fullmatch(r"[0-9a-fA-F]{64}", v), "64 hexadecimal digits (a SHA-256)"),
    "requirement": (lambda v: derived_image.REQUIREMENT.fullmatch(v.strip()),
                    "a pip requirement such as pandas==2.2.3 or scikit-learn>=1.5 (no options, URLs or paths: put those "
                    "in ray_image_requirements_file)"),
    "python_module": (lambda v: derived_image.MODULE.fullmatch(v), "a Python module such as numpy or mypackage.io"),
}
TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a string",
              "path": "a path", "list": "a list", "dict": "a mapping", "raw": "a value"}


def _size(value):
    if isinstance(value, bool):
        return None
    try:
        return int(human_to_bytes(str(value).strip(), isbits=False))
    except (ValueError, TypeError):
        return None


def _is_ip(value):
    try:
        ipaddress.ip_address(str(value).strip("[]"))
        return True
    except ValueError:
        return False


def _url(value, path):
    parts = urlsplit(str(value))
    try:
        parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if not (_is_ip(parts.hostname) or HOSTNAME.match(parts.hostname)):
        return False
    return path or (parts.path in ("", "/") and not parts.query and not parts.fragment)


def _firewall_address(value):
    """What Windows firewall rules take as a remote address (win_firewall_rule's remoteip)."""
    if value in ("LocalSubnet", "Internet", "Intranet", "DNS", "DHCP", "DefaultGateway"):
        return True
    low, dash, high = value.partition("-")
    if dash:
        return _is_ip(low) and _is_ip(high)
    try:
        ipaddress.ip_network(value, strict=False)
        return True
    except ValueError:
        return False


def _registry(value):
    try:
        ipaddress.ip_network(value, strict=False)
        return "/" in value
    except ValueError:
        pass
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        return False
    return bool(_is_ip(host) or HOSTNAME.match(host))


def parse_range(text):
    """'[1, 65535]' -> (1, True, 65535, True); '(0, 1]' -> (0, False, 1, True); '[0, )' -> (0, True, None, False)."""
    match = re.fullmatch(r"\s*([\[(])\s*([-0-9.eE]*)\s*,\s*([-0-9.eE]*)\s*([\])])\s*", text)
    if not match:
        raise ValueError(f"not an interval: {text!r}")
    low, high = match.group(2), match.group(3)
    return (float(low) if low else None, match.group(1) == "[", float(high) if high else None, match.group(4) == "]")


def describe_range(text):
    low, low_in, high, high_in = parse_range(text)
    fmt = lambda number: f"{number:g}"  # noqa: E731
    if high is None:
        return f"{'>=' if low_in else '>'} {fmt(low)}"
    if low is None:
        return f"{'<=' if high_in else '<'} {fmt(high)}"
    return f"in {text.strip()}"


def in_range(number, text):
    low, low_in, high, high_in = parse_range(text)
    if low is not None and (number < low or (number == low and not low_in)):
        return False
    if high is not None and (number > high or (number == high and not high_in)):
        return False
    return True


def shown(value, rule):
    if rule.get("secret"):
        return "<hidden>"
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def coerce(value, spec):
    """Ansible's conversion for the argument spec's type; raises TypeError/ValueError when it cannot."""
    kind = spec.get("type", "raw")
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise TypeError("not a whole number")
        if isinstance(value, bool):
            raise TypeError("a boolean is not a number")
        return check_type_int(value)
    if kind == "float":
        if isinstance(value, bool):
            raise TypeError("a boolean is not a number")
        return check_type_float(value)
    if kind == "bool":
        return check_type_bool(value)
    if kind in ("str", "path"):
        if isinstance(value, (dict, list)):
            raise TypeError("not a string")
        text = "" if value is None else str(value)
        return os.path.expanduser(text) if kind == "path" else text
    if kind == "list":
        if isinstance(value, str):  # `-e key=[...]` hands Ansible a string
            raise TypeError("a string, not a list")
        items = check_type_list(value)
        element = spec.get("elements")
        return [coerce(item, {"type": element}) for item in items] if element else items
    if kind == "dict":
        if isinstance(value, str):
            raise TypeError("a string, not a mapping")
        return check_type_dict(value)
    return value


def check_rule(name, value, rule):
    """Messages for one (already typed) value against its rule."""
    if value is None:
        return [] if rule.get("nullable") else [f"{name}=null: must be set"]
    if value == "" and rule.get("empty"):
        return []
    errors = []
    if "range" in rule:
        if not in_range(value, rule["range"]):
            errors.append(f"{name}={shown(value, rule)}: must be {describe_range(rule['range'])}")
    kind = rule.get("kind")
    if kind:
        test, allowed = KINDS[kind]
        if not isinstance(value, str) or not test(value):
            errors.append(f"{name}={shown(value, rule)}: must be {allowed}")
        elif kind == "size" and "size_range" in rule and not in_range(_size(value), _size_interval(rule["size_range"])):
            errors.append(f"{name}={shown(value, rule)}: must be {rule['size_range']}")
    if "pattern" in rule and not (isinstance(value, str) and re.fullmatch(rule["pattern"], value)):
        errors.append(f"{name}={shown(value, rule)}: must be {rule.get('allowed', 'like ' + rule['pattern'])}")
    if "items" in rule and isinstance(value, list):
        for index, item in enumerate(value):
            errors += check_rule(f"{name}[{index}]", item, rule["items"])
    if rule.get("unique") and isinstance(value, list) \
            and len({json.dumps(item, sort_keys=True, default=str) for item in value}) != len(value):
        errors.append(f"{name}={shown(value, rule)}: must not repeat an entry")
    if isinstance(value, dict):
        for key, item in value.items():
            if "keys" in rule:
                errors += [message.replace(f"{name}.key=", f"{name} key ") for message in
                           check_rule(f"{name}.key", key, rule["keys"])]
            if "values" in rule:
                errors += check_rule(f"{name}.{key}", item, rule["values"])
    return errors


def _size_interval(text):
    """'[64M, )' -> '[67108864, )': a size range written with sizes."""
    low, high = [part.strip() for part in text.strip()[1:-1].split(",")]
    convert = lambda part: str(_size(part)) if part else ""  # noqa: E731
    return f"{text.strip()[0]}{convert(low)}, {convert(high)}{text.strip()[-1]}"


def check_variable(name, value, spec, rule):
    """Type (argument spec), then range/pattern (validation rule): (typed value, [messages])."""
    rule = rule or {}
    if value is None and (rule.get("nullable") or spec.get("type", "raw") == "raw"):
        return None, []
    if value is None and spec.get("type") in ("int", "float", "bool", "list", "dict"):
        return None, [f"{name}=null: must be set ({TYPE_WORDS[spec['type']]})"]
    try:
        typed = coerce(value, spec)
    except (TypeError, ValueError) as exc:
        # Our own reasons ("not a whole number") add to `want`; Ansible's own wording only repeats it.
        reason = str(exc).split(":")[0] if not str(exc).startswith(("The value", "argument")) and "argument" not in str(exc) else ""
        want = TYPE_WORDS.get(spec.get("type", "raw"), spec.get("type"))
        if spec.get("elements"):
            want += f" of {TYPE_WORDS.get(spec['elements'], spec['elements'])}s"
        if spec.get("type") in ("list", "dict") and isinstance(value, str):
            example = "[...]" if spec["type"] == "list" else "{...}"
            return value, [f"{name}={shown(value, rule)}: must be {want}, not a string (`-e key=value` passes a string; "
                           f"pass it as JSON: -e '{{\"{name}\": {example}}}')"]
        return value, [f"{name}={shown(value, rule)}: must be {want}{' (' + reason + ')' if reason and 'convert' not in reason else ''}"]
    choices = spec.get("choices")
    if choices and (any(item not in choices for item in typed) if isinstance(typed, list) else typed not in choices):
        each = "each entry " if isinstance(typed, list) else ""
        return typed, [f"{name}={shown(typed, rule)}: {each}must be one of {', '.join(map(str, choices))}"]
    return typed, check_rule(name, typed, rule)


def check_settings(specs, rules, values):
    """Check every variable of the given argument specs: (typed values, [messages]).

    specs: {name: option spec}; rules: {name: validation rule}; values: {name: value} (templated, with
    role defaults where the user set nothing). A variable missing from `values` is not checked.
    """
    typed, errors = {}, []
    for name in sorted(specs):
        if name not in values:
            continue
        typed[name], problems = check_variable(name, values[name], specs[name], rules.get(name))
        errors += problems
    return typed, errors


def resolvable(host):
    """True when the control node can resolve `host` (for addresses the control node itself uses)."""
    if _is_ip(host):
        return True
    try:
        socket.getaddrinfo(host, None)
        return True
    except OSError:
        return False
