"""What a host holds that the roles compare with their plans, read in one pass: files, and the Docker
engine's state (info, images, networks, volumes, labelled containers), standard library only.

The modules ray_host_facts (the preflight's probe, which takes the run's snapshot of every host) and
docker_engine_info (a role's fresh look after it changed something) both read through here.
"""

import hashlib
import importlib.util
import os
import stat

from ansible_collections.ray_docker.cluster.plugins.module_utils.docker_engine_api import EngineClient, EngineError

# What the roles read of the engine's /info; the snapshot keeps only these (it becomes a host fact).
INFO_KEYS = ("ServerVersion", "OperatingSystem", "Name", "LiveRestoreEnabled", "DockerRootDir")
REGISTRY_KEYS = ("Mirrors", "InsecureRegistryCIDRs")


def describe_file(path):
    """{exists, mode, uid, gid, directory, sha256 (regular files)} of a path, as a plan compares it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {"exists": False}
    described = {"exists": True, "mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                 "directory": stat.S_ISDIR(st.st_mode)}
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as handle:
            described["sha256"] = hashlib.sha256(handle.read()).hexdigest()
    return described


def decode_text(data):
    """(text, encoding) of a config file's bytes: 'utf-8', 'utf-8-sig' (a BOM), 'utf-16' (a BOM, as Windows
    Notepad saves "Unicode"), or (None, 'unknown') for anything else. Nothing is guessed or replaced: a file
    read wrong and written back would lose what its owner had."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None, "unknown"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None, "unknown"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return None, "unknown"


def read_text(path):
    """{path, exists, content, encoding}: a config file's text ('' when absent; None when it is not text this
    module can read, see decode_text)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return {"path": path, "exists": False, "content": "", "encoding": "utf-8"}
    content, encoding = decode_text(data)
    return {"path": path, "exists": True, "content": content, "encoding": encoding}


def trimmed_info(info):
    """The parts of the engine's /info the roles use."""
    info = info or {}
    trimmed = {key: info.get(key) for key in INFO_KEYS}
    registry = info.get("RegistryConfig") or {}
    trimmed["RegistryConfig"] = {key: registry.get(key) for key in REGISTRY_KEYS}
    return trimmed


def python_requests():
    """Whether this Python can import requests (community.docker's modules need it)."""
    return importlib.util.find_spec("requests") is not None


def read_files(paths):
    return {path: describe_file(path) for path in paths or []}


def engine_state(docker_host=None, images=(), networks=(), volumes=(), container_label=None, inspect=(), logs_tail=0,
                 full_info=False, timeout=30, image_references=()):
    """The engine's state as the roles compare it. Raises EngineError when the engine does not answer.

    images: name -> {Id} or None; image_list: repository:tag -> Id of every image matching `image_references`;
    networks: name -> {Id, Driver, Labels} or None; volumes: name -> {Name, Labels} or None; containers (carrying `container_label`): name -> {Id, Image, ImageID, State, Status, Labels};
    inspected: name -> {State, RestartCount, Created[, logs]} or None.
    """
    client = EngineClient(docker_host, timeout=timeout)
    info = client.info()  # also the liveness probe
    state = {"host_info": info if full_info else trimmed_info(info), "images": {}, "networks": {}, "volumes": {},
             "containers": {}, "inspected": {}}
    for name in images or []:
        image = client.image(name)
        state["images"][name] = image and {"Id": image.get("Id")}
    if image_references:
        state["image_list"] = client.images(image_references)
    for name in networks or []:
        network = client.network(name)
        state["networks"][name] = network and {key: network.get(key) for key in ("Id", "Driver", "Labels")}
    for name in volumes or []:
        volume = client.volume(name)
        state["volumes"][name] = volume and {key: volume.get(key) for key in ("Name", "Labels")}
    if container_label:
        for name, row in client.containers(container_label).items():
            state["containers"][name] = {key: row.get(key) for key in ("Id", "Image", "ImageID", "State", "Status", "Labels")}
    for name in inspect or []:
        details = client.container(name)
        if details is not None:
            details = {key: details.get(key) for key in ("State", "RestartCount", "Created")}
            if logs_tail > 0:
                details["logs"] = client.logs(name, logs_tail)
        state["inspected"][name] = details
    return state


__all__ = ["EngineError", "decode_text", "describe_file", "read_text", "engine_state", "read_files", "python_requests", "trimmed_info"]
