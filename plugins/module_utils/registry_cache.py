"""The LAN image cache (role registry_cache): where it runs, what it proxies, how engines list it, and who it served.

One host of a lab runs the CNCF distribution registry (Debian's docker-registry package) as a pull-through cache
of Docker Hub's images: the first engine that asks for a layer makes it cross the slow link once; every other
engine gets it from the LAN. Engines list the cache first among their registry mirrors, then the upstream
mirrors, so a cache that does not answer costs a refused connection and the pull goes on past it.

Pure functions: the plan, the config file, the access log's reading. Unit-tested in
tests/unit/plugins/module_utils/test_registry_cache.py.
"""

import re
from urllib.parse import urlsplit

DOCKER_HUB = "https://registry-1.docker.io"
# How the role runs it: the package's executable and unprivileged user, a systemd unit of its own or a pid file.
SERVICE = "ray-registry-cache"
UNIT_FILE = f"/etc/systemd/system/{SERVICE}.service"
PID_FILE = f"/run/{SERVICE}.pid"
BINARY = "/usr/bin/docker-registry"
USER = "docker-registry"
# distribution 2.x in proxy mode cannot start while its upstream does not answer (it asks the upstream for its
# auth challenge at start-up and panics). A cache whose upstream is down starts as a plain registry over the same
# storage, read-only: it serves the images it holds, which is what a lab needs while the upstream is away.
MODE_PROXY = "proxy"
MODE_OFFLINE = "offline"
# The combined log format distribution writes for each request: `<client> - - [<time>] "<method> <path> HTTP/x"
# <status> <bytes> ...`.
ACCESS_LINE = re.compile(r'^(?P<client>[0-9A-Fa-f.:]+) - - \[[^\]]+\] "(?P<method>GET|HEAD) /v2/(?P<path>\S+) HTTP/[0-9.]+" '
                         r'(?P<status>\d{3}) (?P<bytes>\d+|-)')
STORE_ERROR = re.compile(r'level=error msg="Error committing to storage: (?P<why>[^"]*)"')


def ray_hosts_count(head_hosts, worker_hosts):
    return len(set(head_hosts) | set(worker_hosts))


def active(settings, head_hosts, worker_hosts):
    """Whether the cluster uses a cache: switched on and at least registry_cache_min_hosts Ray hosts (one host
    pulls each image once anyway: a cache there only doubles its disk use)."""
    return bool(settings.get("registry_cache_enabled")) and \
        ray_hosts_count(head_hosts, worker_hosts) >= int(settings.get("registry_cache_min_hosts") or 2)


def cache_host(settings, head_host):
    return settings.get("registry_cache_host") or head_host


def location(settings, head_hosts, worker_hosts, head_host, node_address):
    """(host, url) of the cluster's cache, ('', '') when it uses none: the one answer the cache's own plan, the
    engines' mirror lists and the run's snapshot share. `node_address(host)`: that host's node address ('' while
    unknown in this run, and then the url is '')."""
    if not active(settings, head_hosts, worker_hosts):
        return "", ""
    host = cache_host(settings, head_host)
    return host, cache_url(settings.get("registry_cache_address") or node_address(host), settings["registry_cache_port"])


def upstream(settings):
    """What the cache proxies: registry_cache_upstream, else the first upstream mirror, else Docker Hub itself."""
    mirrors = settings.get("docker_registry_mirrors") or []
    return (settings.get("registry_cache_upstream") or (mirrors[0] if mirrors else DOCKER_HUB)).rstrip("/")


def state_query(settings, upstream_url):
    """Where the cache's state is on its host (registry_cache_state.read's query)."""
    return {"port": settings["registry_cache_port"], "upstream": upstream_url, "binary": BINARY, "user": USER,
            "config_file": f"{settings['registry_cache_config_dir']}/config.yml", "unit_file": UNIT_FILE,
            "service": SERVICE, "pid_file": PID_FILE, "data_dir": settings["registry_cache_data_dir"],
            "log_file": f"{settings['registry_cache_log_dir']}/registry-cache.log"}


def cache_url(address, port):
    """The mirror URL engines list ('' while the cache host's address is unknown in this run)."""
    if not address:
        return ""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{int(port)}"


def looks_like_cache(url, port):
    """A registry-mirrors entry a cache on `port` would have written (plain HTTP on that port)."""
    parts = urlsplit(str(url))
    try:
        return parts.scheme == "http" and parts.port == int(port)
    except ValueError:
        return False


def engine_mirrors(url, wanted, current, port):
    """The registry-mirrors an engine gets with the cache on: the cache first, then the upstream mirrors.

    `url`: the cache's URL ('' when this run does not know its host's address, e.g. a --limit leaving it out: the
    cache entry the file already has is kept, so a limited run never flips the list). `wanted`:
    docker_registry_mirrors; empty keeps the file's own mirrors behind the cache. `current`: the file's list."""
    current = [str(entry) for entry in current or []]
    had_cache = bool(current) and looks_like_cache(current[0], port)
    first = url or (current[0] if had_cache else "")
    rest = list(wanted) if wanted else current[1:] if had_cache else current
    return ([first] if first else []) + [str(entry) for entry in rest if entry != first]


def blobs_to_ask(missing, asked, now, stall_seconds):
    """Which blobs to ask the cache for now, to fill it: `missing` [(repository, digest)] not kept yet, `asked`
    {(repository, digest): when it was last asked for}.

    distribution keeps one fetch in flight per digest, whichever repository asked first; a second repository asking
    meanwhile is passed the blob without keeping it. So a digest shared by two repositories is asked for by the second
    once the first has it. A blob asked for `stall_seconds` ago and still not kept is asked for again."""
    in_flight = {digest for repository, digest in missing
                 if now - asked.get((repository, digest), now - stall_seconds) < stall_seconds}
    chosen = []
    for repository, digest in missing:
        if digest not in in_flight:
            chosen.append((repository, digest))
            in_flight.add(digest)
    return chosen


def is_hub_image(name):
    """Whether `docker pull name` goes to Docker Hub (and so through registry-mirrors): a first path component
    with a dot or a port, or `localhost`, names another registry."""
    first, slash, _ = str(name).partition("/")
    return not (slash and ("." in first or ":" in first or first == "localhost"))


def hub_repository(name):
    """The repository path a Hub image has on a registry: `redis:7` is library/redis."""
    repository = str(name).split("@", 1)[0]
    last = repository.rsplit("/", 1)[-1]
    if ":" in last:
        repository = repository[: len(repository) - len(last)] + last.split(":", 1)[0]
    return repository if "/" in repository else f"library/{repository}"


def config(settings, mode, upstream_url):
    """distribution's config (JSON is YAML): storage on the host's disk, the port on every address, the proxy
    section unless offline (then read-only)."""
    storage = {"filesystem": {"rootdirectory": settings["registry_cache_data_dir"]},
               # a proxy keeps what it fetched; deleting is its own scheduler's business, not a client's
               "delete": {"enabled": False}}
    document = {
        "version": "0.1",
        "log": {"level": "warn", "accesslog": {"disabled": False}, "fields": {"service": "ray-registry-cache"}},
        "storage": storage,
        "http": {"addr": f":{int(settings['registry_cache_port'])}", "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "health": {"storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}},
    }
    if mode == MODE_PROXY:
        document["proxy"] = {"remoteurl": upstream_url}
    else:
        storage["maintenance"] = {"readonly": {"enabled": True}}
    return document


def mode_for(upstream_answers, has_data):
    """Proxy when the upstream answers from the cache's host; offline (read-only over what it holds) when it does
    not; proxy again when there is nothing to serve yet (it will not start, and the run says why)."""
    return MODE_PROXY if upstream_answers or not has_data else MODE_OFFLINE


def log_needs_rotation(log_size, max_mb):
    """Whether a run rotates the cache's log: over its cap (the cache appends to it for as long as it runs)."""
    return log_size > max_mb * 2**20


def read_access_log(text):
    """(requests, store_errors) of a piece of the cache's log: {client: {repository: {"manifests": n, "blobs": n,
    "bytes": n}}} for the manifests (GET or HEAD) and blobs (GET) it answered, and the reasons of the blobs it could
    not keep."""
    requests, errors = {}, []
    for line in (text or "").splitlines():
        match = ACCESS_LINE.match(line)
        if match:
            if match["status"] not in ("200", "307"):
                continue
            path = match["path"]
            for kind in ("manifests", "blobs"):
                marker = f"/{kind}/"
                # an engine that has the layers asks for a tag with HEAD only; a HEAD of a blob moves nothing
                if marker in path and (match["method"] == "GET" or kind == "manifests"):
                    repository = path.split(marker, 1)[0]
                    entry = requests.setdefault(match["client"], {}).setdefault(
                        repository, {"manifests": 0, "blobs": 0, "bytes": 0})
                    entry[kind] += 1
                    entry["bytes"] += int(match["bytes"]) if match["bytes"].isdigit() else 0
            continue
        error = STORE_ERROR.search(line)
        if error:
            errors.append(error["why"])
    return requests, errors


def sources(pulled, requests):
    """Which source served which host's pulls in this run.

    `pulled`: {host: {"address": its address, "images": [names it pulled]}}; `requests`: read_access_log's.
    Returns {"served": {host: [images]}, "past": {host: [images]}, "other_registry": {host: [images]}}: served by
    the cache (it answered that host's manifest request for the image), pulled past it (the next mirror or Docker
    Hub: the cache did not answer it), or from another registry (registry-mirrors apply to Docker Hub only)."""
    outcome = {"served": {}, "past": {}, "other_registry": {}}
    for host, entry in sorted((pulled or {}).items()):
        seen = requests.get(entry.get("address") or "", {})
        for image in entry.get("images") or []:
            if not is_hub_image(image):
                kind = "other_registry"
            elif (seen.get(hub_repository(image)) or {}).get("manifests"):
                kind = "served"
            else:
                kind = "past"
            outcome[kind].setdefault(host, []).append(image)
    return outcome


def report_lines(state, outcome, store_errors, free_bytes, low_free_bytes):
    """(lines for the recap, degraded notes) about the cache in this run."""
    where = f"the LAN image cache {state['url'] or '(address unknown)'} on {state['host']}"
    lines, degraded = [], []
    if state.get("mode") == MODE_OFFLINE:
        lines.append(f"{where} serves only what it holds (read-only): its upstream {state['upstream']} did not answer "
                     "from there; a later run with the upstream back makes it a proxy again")
    for host, images in sorted(outcome["served"].items()):
        lines.append(f"{host} pulled {', '.join(images)} from {where}")
    for host, images in sorted(outcome["other_registry"].items()):
        lines.append(f"{host} pulled {', '.join(images)} from its own registry, not through the cache "
                     "(registry-mirrors apply to Docker Hub images only)")
    if outcome["past"]:
        why = "it did not run" if not state.get("running") else "it did not answer for them"
        pulled_past = "; ".join(f"{host}: {', '.join(images)}" for host, images in sorted(outcome["past"].items()))
        degraded.append(f"{where} did not serve every pull ({why}); these came from the next mirror or Docker Hub: "
                        f"{pulled_past}")
    if store_errors:
        degraded.append(f"{where} could not keep {len(store_errors)} layer(s) ({store_errors[-1]}): it passed them "
                        f"on without keeping them, so each host's pull crossed the upstream link; free space on its disk: "
                        f"{free_bytes // 2**20} MiB")
    elif free_bytes is not None and free_bytes < low_free_bytes:
        lines.append(f"{where} has {free_bytes // 2**20} MiB free on its disk: when it is full it passes layers on "
                     "without keeping them")
    return lines, degraded
