"""Docker Engine API client over the engine's socket, standard library only.

The project's probe module uses it to learn in one quick call what community.docker's modules would need
several slower calls for, and the image pull module to pull several images at once (image_pull.py).
Everything else that changes the engine stays with community.docker.
"""

import http.client
import json
import socket
import urllib.parse

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


class EngineError(Exception):
    """The engine could not be reached or answered with an error."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def demultiplex(body):
    """A container's log stream without the 8-byte frame headers the engine adds when it has no TTY
    (stream type 0-2, three zero bytes, a big-endian length). A TTY container's log is raw text."""
    if len(body) < 8 or body[0] not in (0, 1, 2) or body[1:4] != b"\0\0\0":
        return body
    out, offset = [], 0
    while offset + 8 <= len(body):
        size = int.from_bytes(body[offset + 4:offset + 8], "big")
        out.append(body[offset + 8:offset + 8 + size])
        offset += 8 + size
    return b"".join(out)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class EngineClient:
    def __init__(self, docker_host=DEFAULT_DOCKER_HOST, timeout=30):
        self.docker_host = docker_host or DEFAULT_DOCKER_HOST
        self.timeout = timeout
        self._url = urllib.parse.urlsplit(self.docker_host)
        if self._url.scheme not in ("unix", "tcp", "http"):
            raise EngineError(f"docker_host {self.docker_host!r}: only unix:// and plain tcp:// engines are supported")

    def connect(self, timeout=None):
        """A new HTTP connection to the engine (the caller sends the request and closes it)."""
        timeout = self.timeout if timeout is None else timeout
        if self._url.scheme == "unix":
            return _UnixConnection(self._url.path, timeout)
        return http.client.HTTPConnection(self._url.hostname, self._url.port or 2375, timeout=timeout)

    def get(self, path, query=None):
        """The decoded JSON answer to GET `path`; None when the engine answers 404."""
        body = self.get_raw(path, query)
        return None if body is None else json.loads(body.decode("utf-8"))

    def get_raw(self, path, query=None):
        """The raw body of GET `path`; None when the engine answers 404."""
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        connection = self.connect()
        try:
            connection.request("GET", target, headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = response.read()
        except OSError as exc:
            raise EngineError(f"the Docker engine at {self.docker_host} is not answering: {exc}")
        finally:
            connection.close()
        if response.status == 404:
            return None
        if response.status >= 400:
            raise EngineError(f"GET {path} answered HTTP {response.status}: {body.decode('utf-8', 'replace').strip()}",
                              response.status)
        return body

    def info(self):
        return self.get("/info")

    def image(self, name):
        return self.get(f"/images/{urllib.parse.quote(name, safe='/:@')}/json")

    def images(self, references):
        """{repository:tag: Id} of every image whose name matches one of `references` (`docker images REFERENCE`:
        a repository, or a pattern such as `*/repo`)."""
        rows = self.get("/images/json", {"filters": json.dumps({"reference": list(references)})}) or []
        return {tag: row.get("Id") for row in rows for tag in row.get("RepoTags") or [] if tag != "<none>:<none>"}

    def network(self, name):
        return self.get(f"/networks/{urllib.parse.quote(name, safe='')}")

    def volume(self, name):
        return self.get(f"/volumes/{urllib.parse.quote(name, safe='')}")

    def container(self, name):
        """`docker inspect` of one container, or None."""
        return self.get(f"/containers/{urllib.parse.quote(name, safe='')}/json")

    def logs(self, name, tail=20, since=0, timestamps=False):
        """The last `tail` lines (every line with tail="all") of a container's output (stdout and stderr), since a
        moment (seconds since the epoch; 0: from the start), as text."""
        query = {"stdout": "1", "stderr": "1", "tail": str(tail if tail == "all" else int(tail))}
        if since:
            query["since"] = str(int(since))
        if timestamps:
            query["timestamps"] = "1"
        body = self.get_raw(f"/containers/{urllib.parse.quote(name, safe='')}/logs", query)
        return demultiplex(body or b"").decode("utf-8", "replace")

    def containers(self, label):
        """Every container (running or not) that carries `label` ("key" or "key=value"), by name."""
        rows = self.get("/containers/json", {"all": "1", "filters": json.dumps({"label": [label]})}) or []
        return {row["Names"][0].lstrip("/"): row for row in rows if row.get("Names")}
