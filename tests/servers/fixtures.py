"""Every server fixture module, in one place, so test files need no imports for fixtures."""

from __future__ import annotations

# Each module below defines pytest fixtures; importing them here makes pytest see them.
from tests.servers.app import *  # noqa: F403
from tests.servers.asgi import *  # noqa: F403
from tests.servers.common import *  # noqa: F403
from tests.servers.dnsmasq import *  # noqa: F403
from tests.servers.exporters import *  # noqa: F403
from tests.servers.haproxy import *  # noqa: F403
from tests.servers.lab import *  # noqa: F403
from tests.servers.monitor import *  # noqa: F403
from tests.servers.netns import *  # noqa: F403
from tests.servers.nginx import *  # noqa: F403
from tests.servers.postgres import *  # noqa: F403
from tests.servers.redis import *  # noqa: F403
from tests.servers.tcpserver import *  # noqa: F403
from tests.servers.tls import *  # noqa: F403
