"""The Redis image head fault tolerance stores the GCS state in: mimics the official `redis` image
where the project relies on it (redis-server and redis-cli on PATH, user redis with uid and gid 999,
/data owned by it), built from Debian 12's redis-server, at the tag the ray role pins."""

from __future__ import annotations

from ..images import DEBIAN_SUITE, Recipe
from ..util import pinned_reference

DOCKERFILE = """\
# The official image runs redis-server as user redis (999:999) in /data; the project runs it with
# `user: 999:999` and a config file of its own, so no entrypoint script is needed.
FROM {base}
RUN groupadd --system --gid 999 redis \\
 && useradd --system --uid 999 --gid 999 --home-dir /data --shell /usr/sbin/nologin redis \\
 && apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools \\
 && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /data && chown redis:redis /data
VOLUME /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
"""


def pinned_image() -> tuple[str, str]:
    """(repository, tag) of ray_gcs_redis_image, as the mirror stores it (library/redis)."""
    return pinned_reference("ray_gcs_redis_image")


def recipe() -> Recipe:
    repository, tag = pinned_image()
    return Recipe(
        repository=repository,
        tag=tag,
        suite=DEBIAN_SUITE,  # Debian 12 ships redis-server 7.0.15
        dockerfile=DOCKERFILE,
        check="redis-server --version && redis-cli --version && id && pwd && stat -c owner=%u:%g /data",
        expected=(f"v={tag}", "uid=999(redis)", "gid=999(redis)", "/data", "owner=999:999"),
    )
