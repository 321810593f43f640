"""Your packages on every node (README "Your packages on every node") on the embedded cluster: a derived image built
from the pinned one with a small package from the real package index, reached the way a user behind this machine's
network reaches it (its CA bundle through ray_image_build_ca_file), proven importable on every node; a re-run that
builds nothing; a package that does not exist; a changed requirements file; a Dockerfile of one's own."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, cluster_containers, docker, last_run_events, module_runs, run_runner

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
NODES = ["ray-head", "ray-worker-1", "ray-worker-2"]


def derived_images():
    """{repository:tag: id} of the derived images on this engine."""
    listing = docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", "ray-docker/ray").stdout.split("\n")
    return dict(line.split() for line in listing if line.strip())


def node_images():
    return {name: json.loads(docker("inspect", name).stdout)[0]["Config"]["Image"] for name in NODES}


def imports_of(summary):
    return {node["node_name"]: node.get("imports") for node in summary["check"]["nodes"]}


def packages(mirror_vars, **values):
    return ["-e", mirror_vars, "-e", json.dumps({"ray_image_build_ca_file": CA_BUNDLE, **values})]


@pytest.fixture(scope="module")
def with_package(healthy_cluster, mirror_vars):
    """The cluster running a derived image with tomli-w from the package index; the stock image back at the end. The
    derived images an earlier run left on this engine are removed first: "built once" is judged by what appears."""
    for reference in derived_images():
        docker("rmi", reference)
    before = set(derived_images())
    assert not before, before
    result = run_runner("site", *packages(mirror_vars, ray_image_pip_packages=["tomli-w==1.0.0"]), timeout=1800)
    assert result.rc == 0, result.stderr[-5000:]
    yield result, before
    back = run_runner("site", "-e", mirror_vars)
    assert back.rc == 0 and back.summary["check"]["passed"], back.stderr[-3000:]
    pruned = run_runner("site", "-e", mirror_vars)  # the nodes run the stock image now: every built one goes
    assert pruned.rc == 0 and derived_images() == {}, pruned.stderr[-3000:]
    assert docker("images", "-q", "ray-docker/ray-user").stdout.strip() == "", "and a Dockerfile's stage with them"


def test_a_package_from_the_index_is_built_into_one_image_that_every_node_runs_and_imports(with_package):
    result, before = with_package
    made = sorted(set(derived_images()) - before)
    assert len(made) == 1 and made[0].startswith("ray-docker/ray:2.60.0-py311-cpu-"), made
    assert set(node_images().values()) == {made[0]}, "every node runs it"
    assert result.summary["check"]["passed"]
    assert imports_of(result.summary) == {f"{name}@localhost": {"tomli_w": ""} for name in NODES}
    assert "Every node imports tomli_w" in result.stderr
    assert result.summary["upgrade"]["image"] == made[0], "the nodes were replaced the way an upgrade does it"
    events = last_run_events()
    assert module_runs(events, "ray_docker.cluster.ray_image_build") == {"localhost": 1}


def test_a_job_takes_per_job_packages_with_pip(with_package, tmp_path):
    (tmp_path / "probe.py").write_text("import tomli_w, slugify\nprint('HAVE', tomli_w.__name__, slugify.__name__)\n")
    ran = subprocess.run([sys.executable, str(ROOT / "runner.py"), "job", "submit", "--pip", "python-slugify==8.0.4",
                          "--runtime-env-json", json.dumps({"env_vars": {"PIP_CERT": CA_BUNDLE}}),
                          "--", "python", "probe.py"], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0 and "HAVE tomli_w slugify" in ran.stdout, ran.stderr[-3000:]
    assert Path(CA_BUNDLE).exists()


def test_the_same_line_again_builds_nothing_pulls_nothing_and_restarts_nothing(with_package, mirror_vars):
    images, containers = derived_images(), cluster_containers()
    again = run_runner("site", *packages(mirror_vars, ray_image_pip_packages=["tomli-w==1.0.0"]))
    assert again.rc == 0 and again.summary["changed"] == 0, [line for line in again.stderr.splitlines() if " changed " in line]
    assert derived_images() == images and cluster_containers() == containers
    events = last_run_events()
    assert module_runs(events, "ray_docker.cluster.ray_image_build") == {}
    assert module_runs(events, "ray_docker.cluster.docker_pull_images") == {}


def test_a_package_that_does_not_exist_ends_the_run_naming_it_with_the_cluster_untouched(with_package, mirror_vars):
    images, containers = derived_images(), cluster_containers()
    failed = run_runner("site", *packages(mirror_vars, ray_image_pip_packages=["tomli-w==1.0.0",
                                                                            "ray-docker-no-such-package-e2e"]))
    assert failed.rc == 1
    assert "no version of ray-docker-no-such-package-e2e on the package index" in failed.stderr
    assert "The cluster was not changed" in failed.stderr and "Last lines of the build" in failed.stderr
    assert cluster_containers() == containers and derived_images() == images


def test_a_changed_requirements_file_builds_once_replaces_the_nodes_and_prunes_what_no_node_runs(with_package, mirror_vars,
                                                                                                   tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tomli-w==1.1.0\n")
    vars_ = packages(mirror_vars, ray_image_requirements_file=str(requirements))
    before = set(derived_images())  # the fixture's, which the nodes run
    first = run_runner("site", *vars_, timeout=1800)
    assert first.rc == 0 and first.summary["check"]["passed"], first.stderr[-5000:]
    made = set(derived_images()) - before
    assert len(made) == 1 and set(node_images().values()) == made
    containers = cluster_containers()
    steady = run_runner("site", *vars_)
    assert steady.rc == 0 and cluster_containers() == containers, steady.stderr[-3000:]
    assert set(derived_images()) == made, "the image no node runs any more was removed, nothing was built"
    events = last_run_events()
    assert module_runs(events, "ray_docker.cluster.ray_image_build") == {}
    assert module_runs(events, "community.docker.docker_image_remove") == {"localhost": 1}
    requirements.write_text("tomli-w==1.2.0\n")
    changed = run_runner("site", *vars_, timeout=1800)
    assert changed.rc == 0 and changed.summary["check"]["passed"], changed.stderr[-5000:]
    newer = set(derived_images()) - made
    assert len(newer) == 1 and set(node_images().values()) == newer, "one more build for the changed file"
    assert made <= set(derived_images()), "the image the nodes ran until now stays for this run (the way back)"
    version = docker("exec", "ray-worker-1", "python", "-c",
                     "import importlib.metadata as m; print(m.version('tomli-w'))").stdout.strip()
    assert version == "1.2.0"


def test_a_dockerfile_of_ones_own_is_built_first_and_its_module_proven(with_package, mirror_vars, tmp_path):
    (tmp_path / "labmod.py").write_text("ANSWER = 42\n")
    (tmp_path / "Dockerfile").write_text(
        "ARG RAY_IMAGE\nFROM ${RAY_IMAGE}\nCOPY labmod.py /tmp/labmod.py\n"
        "RUN cp /tmp/labmod.py \"$(python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])')/\"\n")
    result = run_runner("site", *packages(mirror_vars, ray_image_dockerfile=str(tmp_path / "Dockerfile"),
                                          ray_check_imports=["labmod"]), timeout=1800)
    assert result.rc == 0 and result.summary["check"]["passed"], result.stderr[-5000:]
    assert all(imports == {"labmod": ""} for imports in imports_of(result.summary).values())
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "Dockerfile").write_text("FROM rayproject/ray:2.59.0-py311-cpu\n")
    containers = cluster_containers()
    refused = run_runner("site", *packages(mirror_vars, ray_image_dockerfile=str(wrong / "Dockerfile")))
    assert refused.rc == 1 and "it must be FROM ${RAY_IMAGE}" in refused.stderr
    assert cluster_containers() == containers
