"""The Prometheus image the metrics role runs: laid out like the official prom/prometheus (the binary as
/bin/prometheus and the entrypoint, config in /etc/prometheus, data in /prometheus, user nobody, port 9090),
built from Debian 13's prometheus package (2.53.3, an upstream LTS release), at the tag the ray role pins."""

from __future__ import annotations

from ..images import Recipe
from ..util import pinned_reference

DOCKERFILE = """\
FROM {base}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \\
 && rm -rf /var/lib/apt/lists/* \\
 && ( [ -e /bin/prometheus ] || ln -s /usr/bin/prometheus /bin/prometheus ) \\
 && mkdir -p /prometheus /etc/prometheus \\
 && chown -R nobody:nogroup /prometheus /etc/prometheus
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
"""


def pinned_image() -> tuple[str, str]:
    return pinned_reference("ray_prometheus_image")


def recipe() -> Recipe:
    repository, tag = pinned_image()
    return Recipe(
        repository=repository,
        tag=tag,
        suite="trixie",  # Debian 13 ships Prometheus 2.53.3
        dockerfile=DOCKERFILE,
        check="/bin/prometheus --version 2>&1 | head -1 && id && stat -c owner=%U /prometheus",
        expected=(f"version {tag.lstrip('v')}", "uid=65534(nobody)", "owner=nobody"),
    )
