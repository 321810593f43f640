"""The derived image of the user's packages (plugins/module_utils/derived_image.py, images.py, check.py)."""

import json
import subprocess
import sys

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import check, derived_image, images

SETTINGS = {"ray_image_repository": "rayproject/ray", "ray_image_tag": "2.60.0-py311-cpu", "ray_image_pip_packages": [],
            "ray_image_requirements_file": "", "ray_image_apt_packages": [], "ray_image_dockerfile": "",
            "ray_image_pip_index_url": "", "ray_image_pip_extra_index_urls": [], "ray_image_build_ca_file": "",
            "ray_image_registry_port": 5051, "ray_image_registry_image": "registry:2.8.2", "registry_cache_enabled": True,
            "registry_cache_min_hosts": 2, "registry_cache_host": "", "ray_image_archive": ""}


def settings(**changes):
    return dict(SETTINGS, **changes)


@pytest.mark.parametrize("variable,value", [("ray_image_pip_packages", ["six"]), ("ray_image_apt_packages", ["libgl1"]),
                                            ("ray_image_requirements_file", "/r.txt"), ("ray_image_dockerfile", "/D")])
def test_any_package_list_or_file_makes_a_derived_image(variable, value):
    assert not derived_image.customized(SETTINGS)
    assert derived_image.customized(settings(**{variable: value}))


@pytest.mark.parametrize("line", ["pandas", "pandas==2.2.3", "scikit-learn>=1.5,<2", "ray-docker_x.y~=1.0",
                                  "requests[socks]>=2", "torch==2.5.1+cpu", "six ; python_version >= '3.8'"])
def test_a_requirement_pip_reads_is_allowed(line):
    assert derived_image.REQUIREMENT.fullmatch(line)


@pytest.mark.parametrize("line", ["pandas; rm -rf /", "-r other.txt", "--index-url http://x", "git+https://x/y.git",
                                  "./local/pkg", "pandas==", "two words", ""])
def test_options_urls_paths_and_shell_are_refused(line):
    assert not derived_image.REQUIREMENT.fullmatch(line)


def test_the_name_is_the_inputs_digest_so_the_same_inputs_never_build_twice():
    one = derived_image.inputs(settings(ray_image_pip_packages=["six"]), {})
    assert derived_image.digest(one) == derived_image.digest(derived_image.inputs(settings(ray_image_pip_packages=["six"]), {}))
    changed = [
        derived_image.inputs(settings(ray_image_pip_packages=["six==1.17.0"]), {}),
        derived_image.inputs(settings(ray_image_pip_packages=["six"], ray_image_tag="2.61.0-py311-cpu"), {}),
        derived_image.inputs(settings(ray_image_pip_packages=["six"]), {"ray_image_requirements_file": "tomli-w\n"}),
        derived_image.inputs(settings(ray_image_pip_packages=["six"]), {"ray_image_build_ca_file": "PEM"}),
        derived_image.inputs(settings(ray_image_pip_packages=["six"], ray_image_apt_packages=["libgl1"]), {}),
        derived_image.inputs(settings(ray_image_pip_packages=["six"], ray_image_pip_index_url="https://pypi.lan/simple"), {}),
    ]
    digests = {derived_image.digest(item) for item in changed} | {derived_image.digest(one)}
    assert len(digests) == len(changed) + 1, "every input changes the name"
    proxied = derived_image.inputs(settings(ray_image_pip_packages=["six"], ray_image_build_http_proxy="http://p:3128"), {})
    assert derived_image.digest(proxied) == derived_image.digest(one), "a proxy is how packages travel, not what they are"
    apt_order = derived_image.inputs(settings(ray_image_pip_packages=["six"], ray_image_apt_packages=["b", "a"]), {})
    assert apt_order["apt"] == ["a", "b"]


def test_the_reference_is_local_on_one_host_and_in_the_lan_registry_in_a_lab():
    digest = "0123456789abcdef" * 4
    assert derived_image.reference(SETTINGS, digest) == "ray-docker/ray:2.60.0-py311-cpu-0123456789ab"
    assert derived_image.reference(SETTINGS, digest, "10.0.0.5:5051") == "10.0.0.5:5051/ray-docker/ray:2.60.0-py311-cpu-0123456789ab"
    assert derived_image.registry_address(SETTINGS, "10.0.0.5") == "10.0.0.5:5051"
    assert derived_image.registry_address(SETTINGS, "fd00::5") == "[fd00::5]:5051"
    assert derived_image.registry_address(SETTINGS, "") == ""


def test_the_cache_host_builds_in_a_lab_with_the_cache_else_the_head():
    assert derived_image.build_host(SETTINGS, ["h"], ["w1", "w2"], "h") == "h"
    assert derived_image.build_host(settings(registry_cache_host="w2"), ["h"], ["w1", "w2"], "h") == "w2"
    assert derived_image.build_host(settings(registry_cache_host="w2", registry_cache_enabled=False), ["h"], ["w1"], "h") == "h"
    assert derived_image.shared(["h"], ["w1"]) and not derived_image.shared(["h"], [])


def test_the_dockerfile_installs_what_is_asked_in_order_and_records_the_modules():
    inputs = derived_image.inputs(settings(ray_image_pip_packages=["six"], ray_image_apt_packages=["libgl1"],
                                           ray_image_pip_index_url="https://pypi.lan/simple",
                                           ray_image_pip_extra_index_urls=["https://more.lan/simple"]), {})
    text = derived_image.dockerfile_text(inputs, has_ca=True)
    lines = text.splitlines()
    assert lines[1:3] == ["ARG BASE_IMAGE", "FROM ${BASE_IMAGE}"]
    order = [next(i for i, line in enumerate(lines) if marker in line)
             for marker in ("update-ca-certificates", "apt-get install", "USER 1000:100", "pip install", "record_imports.py \"")]
    assert order == sorted(order), "the CA first, root's packages, then the user's"
    pip = next(line for line in lines if "pip install" in line)
    assert "PIP_CERT=/etc/ssl/certs/ca-certificates.crt" in pip and "--index-url https://pypi.lan/simple" in pip
    assert "--extra-index-url https://more.lan/simple" in pip and pip.endswith("-r /tmp/ray-docker/requirements.txt")
    assert "libgl1" in next(line for line in lines if "apt-get install" in line)
    plain = derived_image.dockerfile_text(derived_image.inputs(settings(ray_image_apt_packages=["libgl1"]), {}), has_ca=False)
    assert "pip install" not in plain and "update-ca-certificates" not in plain and derived_image.IMAGE_RECORD in plain


def test_the_requirements_are_the_list_then_the_file():
    text = derived_image.requirements_text(settings(ray_image_pip_packages=["six", "tomli-w==1.0.0"]), "pandas\n-r x.txt\n")
    assert text.splitlines() == ["six", "tomli-w==1.0.0", "# ray_image_requirements_file", "pandas", "-r x.txt"]
    assert derived_image.requirements_text(SETTINGS) == ""
    assert [derived_image.requirement_name(line) for line in text.splitlines()] == ["six", "tomli-w", "", "pandas", ""]


def test_the_record_lists_each_requirements_top_level_modules(tmp_path):
    """The build's record script, run here against this environment's own installed packages."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("PyYAML>=5\n# a comment\npytest\nsetuptools\nno-such-distribution-ray-docker\n")
    script = tmp_path / "record_imports.py"
    script.write_text(derived_image.RECORD_IMPORTS)
    out = subprocess.run([sys.executable, str(script), "abc123", str(requirements)], capture_output=True, text=True,
                         check=True)
    record = json.loads(out.stdout)
    assert record["inputs"] == "abc123"
    assert "yaml" in record["modules"]["PyYAML"], "top_level.txt names a module other than the project"
    assert record["modules"]["pytest"] == ["pytest"], "its own module, not its other top-level ones (py)"
    assert record["modules"]["setuptools"] == ["setuptools"], "not pkg_resources beside it (duckdb: adbc_driver_duckdb)"
    assert record["modules"]["no-such-distribution-ray-docker"] == []


@pytest.mark.parametrize("log,culprit", [
    (["ERROR: Could not find a version that satisfies the requirement nosuchpkg-xyz (from versions: none)",
      "ERROR: No matching distribution found for nosuchpkg-xyz"], "no version of nosuchpkg-xyz on the package index"),
    (["E: Unable to locate package libnothing"], "no Debian package libnothing"),
    (["ERROR: Cannot install a==1 and b==2 because these package versions have conflicting dependencies."],
     "conflicting versions: a==1 and b==2"),
    (["WARNING: Retrying ... SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED]",
      "ERROR: No matching distribution found for six"], "ray_image_build_ca_file"),
    (["WARNING: Retrying ... Failed to establish a new connection: [Errno 111] Connection refused"], "ray_image_pip_index_url"),
])
def test_a_failed_build_names_its_culprit(log, culprit):
    assert culprit in derived_image.build_failure(log, "The command '/bin/sh -c pip install' returned a non-zero code: 1")


def test_a_failure_without_a_known_cause_says_the_engines_last_words():
    assert derived_image.build_failure([], "COPY failed: file not found") == "COPY failed: file not found"


@pytest.mark.parametrize("text,ok", [("ARG RAY_IMAGE\nFROM ${RAY_IMAGE}\nRUN true\n", True),
                                     ("ARG RAY_IMAGE\nFROM $RAY_IMAGE AS base\n", True),
                                     ("FROM rayproject/ray:2.60.0\n", False), ("RUN true\n", False)])
def test_a_users_dockerfile_must_start_from_the_pinned_image(text, ok):
    assert (derived_image.user_dockerfile_problem(text) == "") is ok


DERIVED = {"customized": True, "image": "10.0.0.5:5051/ray-docker/ray:2.60.0-py311-cpu-0123456789ab", "build_host": "h",
           "shared": True}


def test_the_build_host_builds_from_the_pinned_image_and_the_others_pull_after_it():
    on_build = images.wanted(SETTINGS, "h", "h", "h", DERIVED)
    assert [(image["name"], image["role"], image.get("build", False)) for image in on_build] == [
        ("rayproject/ray:2.60.0-py311-cpu", "ray base", False), (DERIVED["image"], "ray", True),
        ("registry:2.8.2", "registry", False)]
    plan = images.plan(on_build, {})
    assert [image["name"] for image in plan["to_pull"]] == ["rayproject/ray:2.60.0-py311-cpu", "registry:2.8.2"]
    assert [image["name"] for image in plan["to_build"]] == [DERIVED["image"]] and plan["to_pull_built"] == []
    other = images.plan(images.wanted(SETTINGS, "w1", "h", "h", DERIVED), {}, "always")
    assert other["to_pull"] == [] and other["to_build"] == []
    assert [(image["repository"], image["tag"]) for image in other["to_pull_built"]] == [
        ("10.0.0.5:5051/ray-docker/ray", "2.60.0-py311-cpu-0123456789ab")]
    present = {DERIVED["image"]: {"Id": "sha256:1"}}
    assert images.plan(images.wanted(SETTINGS, "w1", "h", "h", DERIVED), present, "always")["to_pull_built"] == [], \
        "a derived image present is the right one: its name is its inputs"
    alone = images.wanted(SETTINGS, "h", "h", "h", dict(DERIVED, shared=False, image="ray-docker/ray:x"))
    assert "registry:2.8.2" not in [image["name"] for image in alone]


def test_a_pull_from_the_lan_registry_that_fails_says_which_port_to_open():
    image = images.wanted(SETTINGS, "w1", "h", "h", DERIVED)[0]
    message = images.failure_message("w1", image, "connection refused", [], 3)
    assert "LAN registry on h" in message and "ray_image_registry_port" in message


def test_the_check_fails_a_node_that_cannot_import_or_runs_another_image():
    record = {"inputs": "d1", "modules": {"six": ["six"]}}
    good = {"node_name": "a", "imports": {"record": record, "modules": {"six": "", "json": ""}}}
    broken = {"node_name": "b", "imports": {"record": record, "modules": {"six": "ModuleNotFoundError: No module named 'six'"}}}
    stock = {"node_name": "c", "imports": {"record": None, "modules": {"json": ""}}}
    other = {"node_name": "d", "imports": {"record": {"inputs": "d0"}, "modules": {}}}
    assert check.import_reasons([good], "d1") == []
    assert check.import_reasons([broken], "d1") == ["b cannot import six: ModuleNotFoundError: No module named 'six'"]
    assert check.import_reasons([stock], "d1") == ["c does not run the image with your packages (an image without them)"]
    assert check.import_reasons([other], "d1") == ["d does not run the image with your packages (an image of other packages)"]
    assert check.import_reasons([stock], "") == [], "without a derived image only the imports count"
