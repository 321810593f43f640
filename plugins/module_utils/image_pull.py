"""Pull several images at once through the Docker Engine API, standard library only.

A pull is `POST /images/create?fromImage=<repository>&tag=<tag>`: the engine answers 200 at once and then streams
JSON progress objects; a failure arrives as an object with "error" in that stream (still HTTP 200). The engine
applies its registry-mirrors itself, exactly as for `docker pull`. Credentials come from the Docker CLI's
config.json (DOCKER_CONFIG, else ~/.docker), as `docker pull` and community.docker find them.
"""

import base64
import json
import os
import subprocess
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.ray_docker.cluster.plugins.module_utils.docker_engine_api import EngineClient, EngineError

DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
# Silence this long from the engine in the middle of a pull means it is stuck (it sends progress every second).
IDLE_SECONDS = 120


def registry_of(repository):
    """The registry a repository lives in, as config.json keys it ('rayproject/ray' -> Docker Hub)."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB_AUTH_KEY


def stream_errors(lines):
    """The error messages in a pull's progress stream (JSON objects, one per line)."""
    errors = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and item.get("error"):
            errors.append(str((item.get("errorDetail") or {}).get("message") or item["error"]).strip())
    return errors


def credentials(registry, config_dir=None, run=subprocess.run):
    """{username, password, serveraddress} for `registry` from the Docker CLI's config.json, or None.

    Inline `auths` entries and credential helpers (`credHelpers`, `credsStore`: docker-credential-<name> get) are
    read as the Docker CLI reads them."""
    path = os.path.join(config_dir or os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker"), "config.json")
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return None
    helper = (config.get("credHelpers") or {}).get(registry) or config.get("credsStore")
    if helper:
        try:
            answer = run([f"docker-credential-{helper}", "get"], input=registry, capture_output=True, text=True,
                         timeout=30)
        except (OSError, subprocess.SubprocessError):
            answer = None
        if answer is not None and answer.returncode == 0:
            try:
                found = json.loads(answer.stdout)
                return {"username": found["Username"], "password": found["Secret"], "serveraddress": registry}
            except (ValueError, KeyError):
                pass
    entry = (config.get("auths") or {}).get(registry) or {}
    if entry.get("auth"):
        try:
            username, _, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return {"username": username, "password": password, "serveraddress": registry}
    return None


def auth_header(auth):
    return {"X-Registry-Auth": base64.urlsafe_b64encode(json.dumps(auth).encode("utf-8")).decode("ascii")} if auth else {}


def pull_once(client, repository, tag, deadline, auth=None):
    """Pull one image; '' on success, else the engine's reason."""
    query = urllib.parse.urlencode({"fromImage": repository, "tag": tag})
    connection = client.connect(timeout=IDLE_SECONDS)
    try:
        connection.request("POST", f"/images/create?{query}", headers=auth_header(auth))
        response = connection.getresponse()
        if response.status >= 400:
            return f"HTTP {response.status}: {response.read().decode('utf-8', 'replace').strip()}"
        errors = []
        while True:
            line = response.readline()
            if not line:
                break
            errors += stream_errors([line.decode("utf-8", "replace")])
            if time.monotonic() > deadline:
                return "timed out"
        return "; ".join(errors)
    except OSError as exc:
        return f"the engine stopped answering: {exc}"
    finally:
        connection.close()


def pull(client, image, attempts, delay, timeout, sleep=time.sleep, clock=time.monotonic):
    """Pull one image with up to `attempts` tries; {name, ok, changed, id, msg, attempts, seconds}."""
    started = clock()
    auth = credentials(registry_of(image["repository"]))
    try:
        before = (client.image(image["name"]) or {}).get("Id")
    except EngineError:
        before = None
    reason = ""
    for attempt in range(1, attempts + 1):
        reason = pull_once(client, image["repository"], image["tag"], clock() + timeout, auth)
        if not reason:
            try:
                found = client.image(image["name"])
            except EngineError as exc:
                found, reason = None, str(exc)
            if found:
                return {"name": image["name"], "ok": True, "changed": found.get("Id") != before, "id": found.get("Id"),
                        "msg": "", "attempts": attempt, "seconds": round(clock() - started, 1)}
            reason = reason or "the engine reported success but does not have the image"
        if attempt < attempts:
            sleep(delay)
    return {"name": image["name"], "ok": False, "changed": False, "id": None, "msg": reason, "attempts": attempts,
            "seconds": round(clock() - started, 1)}


def pull_all(docker_host, images, attempts, delay, timeout):
    """Every image at once, each retried on its own; the outcomes in the order of `images`."""
    client = EngineClient(docker_host)
    if not images:
        return []
    with ThreadPoolExecutor(max_workers=len(images)) as pool:
        return list(pool.map(lambda image: pull(client, image, attempts, delay, timeout), images))
