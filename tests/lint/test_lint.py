"""ansible-lint (production profile) and a syntax check of every playbook."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLAYBOOKS = sorted((ROOT / "playbooks").glob("*.yml"))


def test_ansible_lint_production_profile_passes():
    result = subprocess.run([str(BIN / "ansible-lint"), "--profile", "production"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in result.stderr + result.stdout


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=[p.name for p in PLAYBOOKS])
def test_playbook_syntax(playbook):
    result = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(playbook)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("inventory", ["example-multihost.yml", "example-windows-lab.yml"])
def test_site_syntax_with_the_example_inventories(inventory):
    """The Windows plays have hosts only with a Windows inventory: check them with the example's."""
    result = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", str(ROOT / "inventory" / inventory),
                             str(ROOT / "playbooks" / "site.yml")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_lint_passes():
    """pyflakes and pycodestyle's error classes (ruff.toml) on the plugins, the runner, the tests and benchmarks."""
    result = subprocess.run([str(BIN / "ruff"), "check", "--output-format", "concise", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


PLUGINS = sorted({path.stem for folder in ("modules", "action") for path in (ROOT / "plugins" / folder).glob("*.py")})


@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_module_and_action_has_documentation_ansible_doc_shows(plugin):
    result = subprocess.run([str(BIN / "ansible-doc"), f"ray_docker.cluster.{plugin}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "EXAMPLES" in result.stdout and "RETURN VALUES" in result.stdout, result.stderr[-2000:]
