"""The registry image the ray_image role runs as the LAN registry of a derived image: laid out like the official
`registry` image (the binary as /bin/registry, its config at /etc/docker/registry/config.yml, data in
/var/lib/registry, port 5000, `registry serve <config>`), built from Debian 12's docker-registry package (the CNCF
distribution 2.8.2, the version the role pins)."""

from __future__ import annotations

from ..images import DEBIAN_SUITE, Recipe
from ..util import pinned_reference

DOCKERFILE = """\
FROM {base}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry \\
 && rm -rf /var/lib/apt/lists/* \\
 && ln -s /usr/bin/docker-registry /bin/registry \\
 && mkdir -p /etc/docker/registry /var/lib/registry \\
 && printf '%s\\n' 'version: 0.1' 'log:' '  fields:' '    service: registry' 'storage:' '  cache:' \\
      '    blobdescriptor: inmemory' '  filesystem:' '    rootdirectory: /var/lib/registry' 'http:' '  addr: :5000' \\
      > /etc/docker/registry/config.yml
VOLUME ["/var/lib/registry"]
EXPOSE 5000
ENTRYPOINT ["/bin/registry"]
CMD ["serve", "/etc/docker/registry/config.yml"]
"""


def pinned_image() -> tuple[str, str]:
    return pinned_reference("ray_image_registry_image", role="ray_image")


def recipe() -> Recipe:
    repository, tag = pinned_image()
    return Recipe(
        repository=repository,
        tag=tag,
        suite=DEBIAN_SUITE,  # Debian 12 ships docker-registry 2.8.2
        dockerfile=DOCKERFILE,
        check="/bin/registry --version && test -s /etc/docker/registry/config.yml && echo config-ok",
        expected=(f"distribution {tag}", "config-ok"),
    )
