"""The cluster's secrets on the control node (plugins/plugin_utils/secrets.py): created once, private, never replaced."""

import os
import stat

import pytest

from ansible_collections.ray_docker.cluster.plugins.plugin_utils import secrets


def test_a_secret_is_created_once_private_and_read_afterwards(tmp_path):
    path = tmp_path / "cluster" / "auth_token"
    first = secrets.ensure(str(path), 64, "hex")
    assert len(first) == 64 and set(first) <= set("0123456789abcdef")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert secrets.ensure(str(path), 64, "hex") == first, "read, not regenerated"


def test_an_existing_secret_is_kept_whatever_its_alphabet(tmp_path):
    """Tokens made by earlier versions (Ansible's password lookup: mixed-case hex, a trailing newline) stay valid."""
    path = tmp_path / "auth_token"
    path.write_text("f96Ce2d58fca18f1CE2EC5C31f3aa2ddCa6D5C95F7C79AB2c9DdC7dB77ed14fD\n")
    assert secrets.ensure(str(path), 64, "hex") == "f96Ce2d58fca18f1CE2EC5C31f3aa2ddCa6D5C95F7C79AB2c9DdC7dB77ed14fD"


def test_a_secret_of_the_wrong_length_is_refused_not_replaced(tmp_path):
    path = tmp_path / "redis_password"
    path.write_text("short\n")
    with pytest.raises(secrets.SecretError, match="must hold a 48-character secret"):
        secrets.ensure(str(path), 48)
    assert path.read_text() == "short\n"


def test_a_rendered_file_with_a_secret_is_private_and_rewritten_only_when_it_differs(tmp_path):
    path = tmp_path / "redis.conf"
    digest = secrets.keep_rendered(str(path), "requirepass x\n")
    assert digest == secrets.sha256_of_text("requirepass x\n") and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    before = os.stat(path).st_mtime_ns
    secrets.keep_rendered(str(path), "requirepass x\n")
    assert os.stat(path).st_mtime_ns == before
