"""A STAND-IN for grafana/grafana, for the tests of the project's own Grafana path (the container the role runs,
the files it provisions, what the head reads, down and purge) on a machine where no real Grafana can be had (no
package source this machine reaches carries one). It is not Grafana: a small Python HTTP server laid out like the
official image where the role relies on it (user 472, /etc/grafana, /var/lib/grafana, port 3000, GF_* settings),
that answers what the role and Ray's head ask: /api/health, and a provisioned datasource or dashboard read back from
the files the role wrote. Pushed as grafana/grafana:standin, never under the pinned tag."""

from __future__ import annotations

import hashlib

from ..images import Recipe

TAG = "standin"

SERVER = r'''
import glob, json, os, sys, yaml
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROVISIONING = os.environ.get("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")
DATA = os.environ.get("GF_PATHS_DATA", "/var/lib/grafana")


def provisioned(kind):
    found = []
    for path in sorted(glob.glob(f"{PROVISIONING}/{kind}/*.y*ml")):
        found += (yaml.safe_load(open(path)) or {}).get(kind if kind == "datasources" else "providers") or []
    return found


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/api/health"):
            return self.answer(200, {"database": "ok", "version": "standin"})
        if self.path.startswith("/api/datasources/name/"):
            name = self.path.rsplit("/", 1)[1]
            match = [source for source in provisioned("datasources") if source.get("name") == name]
            return self.answer(200 if match else 404, match[0] if match else {"message": "not found"})
        if self.path.startswith("/api/dashboards/uid/"):
            uid = self.path.rsplit("/", 1)[1]
            for provider in provisioned("dashboards"):
                for path in glob.glob(os.path.join(provider["options"]["path"], "*.json")):
                    board = json.load(open(path))
                    if board.get("uid") == uid:
                        return self.answer(200, {"dashboard": board, "meta": {"folderTitle": provider.get("folder", "")}})
            return self.answer(404, {"message": "not found"})
        return self.answer(404, {"message": "not found"})

    def log_message(self, *args):
        pass


open(os.path.join(DATA, "standin-started"), "a").write("started\n")  # the data volume is writable by uid 472
with open(os.environ["GF_SECURITY_ADMIN_PASSWORD__FILE"]) as handle:
    assert handle.read().strip(), "no admin password"
ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("GF_SERVER_HTTP_PORT", "3000"))), Handler).serve_forever()
'''

DOCKERFILE = """\
FROM {base}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-yaml \\
 && rm -rf /var/lib/apt/lists/* \\
 && useradd -u 472 -g 0 -M -d /usr/share/grafana grafana \\
 && mkdir -p /etc/grafana /var/lib/grafana /usr/share/grafana \\
 && chown -R 472:0 /etc/grafana /var/lib/grafana /usr/share/grafana
LABEL raylab.standin-server="{server_sha256}"
COPY server.py /usr/share/grafana/server.py
USER 472
EXPOSE 3000
VOLUME ["/var/lib/grafana"]
ENTRYPOINT ["python3", "/usr/share/grafana/server.py"]
"""


def recipe() -> Recipe:
    def prepare(cache):
        path = cache / "grafana-standin" / "server.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SERVER)
        return {"server.py": path}

    return Recipe(
        repository="grafana/grafana",
        tag=TAG,
        dockerfile=DOCKERFILE,
        check="id && python3 -c 'import yaml; print(\"yaml ok\")'",
        expected=("uid=472(grafana)", "yaml ok"),
        prepare=prepare,
        dockerfile_args={"server_sha256": hashlib.sha256(SERVER.encode()).hexdigest()},
    )
