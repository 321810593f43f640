"""Build an image through the Docker Engine API and push it, standard library only.

A build is `POST /build` with the context as a tar body: the engine answers 200 and streams JSON objects
(`stream` lines of output, `aux` with the image id, `error` when a step failed, still HTTP 200). A push is
`POST /images/<name>/push`, streamed the same way. The engine's own builder runs the Dockerfile (no BuildKit, no
docker CLI on the host needed).
"""

import base64
import json
import time
import urllib.parse

from ansible_collections.ray_docker.cluster.plugins.module_utils.docker_engine_api import EngineClient, EngineError

IDLE_SECONDS = 900  # a step may print nothing for long (a large wheel compiling, a slow index)
TAIL = 40


class BuildError(Exception):
    def __init__(self, message, log_tail=()):
        super().__init__(message)
        self.log_tail = list(log_tail)


def read_stream(response, deadline, on_item):
    """Feed each JSON object of a streamed answer to on_item; raise BuildError past the deadline."""
    while True:
        line = response.readline()
        if not line:
            return
        line = line.strip()
        if line:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                on_item(item)
        if time.monotonic() > deadline:
            raise BuildError("timed out")


def build(client, context_path, tag, buildargs, deadline):
    """Build the tar at context_path as `tag`; (image id, the output's last lines). Raises BuildError."""
    query = urllib.parse.urlencode({"t": tag, "dockerfile": "Dockerfile", "rm": "1", "forcerm": "1",
                                    "buildargs": json.dumps(buildargs)})
    lines, found = [], {"id": "", "error": ""}

    def on_item(item):
        if item.get("stream"):
            lines.extend(item["stream"].rstrip("\n").splitlines())
            del lines[:-400]
        if (item.get("aux") or {}).get("ID"):
            found["id"] = item["aux"]["ID"]
        if item.get("error"):
            found["error"] = str((item.get("errorDetail") or {}).get("message") or item["error"]).strip()

    connection = client.connect(timeout=IDLE_SECONDS)
    try:
        with open(context_path, "rb") as body:
            connection.request("POST", f"/build?{query}", body=body,
                               headers={"Content-Type": "application/x-tar"})
            response = connection.getresponse()
            if response.status >= 400:
                raise BuildError(f"HTTP {response.status}: {response.read().decode('utf-8', 'replace').strip()}", lines)
            read_stream(response, deadline, on_item)
    except OSError as exc:
        raise BuildError(f"the engine stopped answering: {exc}", lines[-TAIL:])
    finally:
        connection.close()
    if found["error"]:
        raise BuildError(found["error"], lines[-TAIL:])
    image = client.image(tag) or {}
    if not image.get("Id"):
        raise BuildError("the build ended without an image", lines[-TAIL:])
    return image["Id"], lines[-TAIL:]


def push(client, name, deadline):
    """Push `name` (registry/repository:tag); raises BuildError with the registry's answer."""
    repository, _, tag = name.rpartition(":")
    errors = []
    auth = base64.urlsafe_b64encode(b"{}").decode("ascii")  # the engine wants the header even for no credentials
    connection = client.connect(timeout=IDLE_SECONDS)
    try:
        connection.request("POST", f"/images/{urllib.parse.quote(repository, safe='/:')}/push?"
                           + urllib.parse.urlencode({"tag": tag}), headers={"X-Registry-Auth": auth})
        response = connection.getresponse()
        if response.status >= 400:
            raise BuildError(f"HTTP {response.status}: {response.read().decode('utf-8', 'replace').strip()}")
        read_stream(response, deadline, lambda item: item.get("error") and errors.append(
            str((item.get("errorDetail") or {}).get("message") or item["error"]).strip()))
    except OSError as exc:
        raise BuildError(f"the engine stopped answering: {exc}")
    finally:
        connection.close()
    if errors:
        raise BuildError("; ".join(errors))


def run(docker_host, stages, push_name, timeout, clock=time.monotonic):
    """Build each stage in order, then push; {image_id, stages: [{tag, seconds, log_tail}], pushed, seconds}.
    Raises BuildError naming the stage (`stage` attribute) that failed."""
    client = EngineClient(docker_host)
    started = clock()
    deadline = started + timeout
    done = []
    image_id = ""
    for stage in stages:
        begun = clock()
        try:
            image_id, tail = build(client, stage["context"], stage["tag"], stage.get("buildargs") or {}, deadline)
        except (BuildError, EngineError) as exc:
            error = BuildError(str(exc), getattr(exc, "log_tail", []))
            error.stage = stage["tag"]
            raise error
        done.append({"tag": stage["tag"], "seconds": round(clock() - begun, 1), "log_tail": tail})
    pushed = False
    if push_name:
        try:
            push(client, push_name, deadline)
        except (BuildError, EngineError) as exc:
            error = BuildError(f"the push into the LAN registry failed: {exc}")
            error.stage = "push"
            raise error
        pushed = True
    return {"image_id": image_id, "stages": done, "pushed": pushed, "seconds": round(clock() - started, 1)}
