"""Offline archives (plugins/module_utils/images.py): loaded only while the image is missing, so a re-run is a no-op."""

from ansible_collections.ray_docker.cluster.plugins.module_utils import images

RAY = {"name": "rayproject/ray:2.60.0-py311-cpu", "role": "ray", "archive": "/srv/ray.tar",
       "archive_variable": "ray_image_archive", "required": True}
REDIS = {"name": "redis:7.0.15", "role": "redis", "archive": "", "archive_variable": "ray_image_redis_archive",
         "required": True}


def test_an_archive_whose_image_is_present_is_not_loaded_again():
    present = {RAY["name"]: {"Id": "sha256:1"}, REDIS["name"]: {"Id": "sha256:2"}}
    plan = images.plan([RAY, REDIS], present)
    assert plan == {"missing": [], "to_load": [], "to_pull": [], "to_build": [], "to_pull_built": []}


def test_an_archive_is_loaded_while_its_image_is_missing_and_never_pulled():
    plan = images.plan([RAY, REDIS], {REDIS["name"]: {"Id": "sha256:2"}})
    assert [image["name"] for image in plan["to_load"]] == [RAY["name"]] and plan["to_pull"] == []
    always = images.plan([RAY, REDIS], {RAY["name"]: {"Id": "sha256:1"}, REDIS["name"]: {"Id": "sha256:2"}}, "always")
    assert always["to_load"] == [] and [image["name"] for image in always["to_pull"]] == [REDIS["name"]]
