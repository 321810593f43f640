"""ansible-lint (production profile) and a syntax check of every playbook."""

import os
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


def test_the_collection_builds_installs_and_serves_the_readmes_playbook(tmp_path):
    """`ansible-galaxy collection build` makes an artifact without the project's tooling, and the README's "your own
    playbook" example passes a syntax check against that artifact installed on its own."""
    import re
    import tarfile

    version = re.search(r"^version: (\S+)", (ROOT / "galaxy.yml").read_text(), re.M).group(1)
    build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(tmp_path)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    artifact = tmp_path / f"ray_docker-cluster-{version}.tar.gz"
    with tarfile.open(artifact) as tar:
        names = set(tar.getnames())
    assert {"roles/ray_cluster/tasks/main.yml", "plugins/action/ray_cluster_plan.py", "plugins/modules/ray_host_facts.py",
            "playbooks/preflight.yml", "meta/runtime.yml"} <= names
    assert not any(name.split("/")[0] in ("tests", "molecule", "raydeploy", ".venv", "benchmarks", "runner.py")
                   or "__pycache__" in name for name in names)
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p",
                              str(tmp_path / "collections"), str(artifact)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    readme = (ROOT / "README.md").read_text()
    example = readme.split("## Use the roles from your own playbook", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "mine.yml").write_text(example)
    # The checkout is linked into .venv's site-packages for the runner, so sys.path is not scanned here: the bundled
    # collections the roles use come from a folder of links that leaves ray_docker out, and the only
    # ray_docker.cluster Ansible can find is the installed artifact.
    bundled = next(ROOT.glob(".venv/lib/python*/site-packages/ansible_collections"))
    deps = tmp_path / "deps" / "ansible_collections"
    deps.mkdir(parents=True)
    for namespace in bundled.iterdir():
        if namespace.is_dir() and namespace.name != "ray_docker":
            (deps / namespace.name).symlink_to(namespace)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": f"{tmp_path / 'collections'}:{tmp_path / 'deps'}",
           "ANSIBLE_CONFIG": str(tmp_path / "none.cfg"), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"}
    listed = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list", "ray_docker.cluster"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.stdout.count("ray_docker.cluster") == 1 and str(tmp_path / "collections") in listed.stdout, listed.stdout
    check = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", str(ROOT / "inventory" / "example-multihost.yml"),
                            str(tmp_path / "mine.yml")], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
