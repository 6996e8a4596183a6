"""Cloud SQL: ``gcloud sql instances describe INSTANCE --format=json``.

Fields as the Cloud SQL Admin API defines a DatabaseInstance
(https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances#DatabaseInstance):
``kind`` ("sql#instance"), ``name``, ``connectionName`` (PROJECT:REGION:INSTANCE), ``state``
(RUNNABLE, SUSPENDED, PENDING_DELETE, PENDING_CREATE, MAINTENANCE, FAILED),
``ipAddresses[]`` with ``type`` (PRIMARY: public, PRIVATE, OUTGOING) and ``ipAddress``, and
``settings.ipConfiguration`` with ``requireSsl`` (legacy: SSL with valid client certificates)
and ``sslMode`` (ALLOW_UNENCRYPTED_AND_ENCRYPTED, ENCRYPTED_ONLY,
TRUSTED_CLIENT_CERTIFICATE_REQUIRED; IpConfiguration.SslMode).
"""

from __future__ import annotations

from faultfinder.platform._fields import Node
from faultfinder.platform.facts import PlatformFacts, SqlInstance


def recognises(node: Node) -> bool:
    value = node.value
    return isinstance(value, dict) and (
        value.get("kind") == "sql#instance" or ("connectionName" in value and "state" in value)
    )


def read(node: Node) -> PlatformFacts:
    ip_configuration = node.get("settings").get("ipConfiguration")
    instance = SqlInstance(
        name=node.text("name"),
        source=node.file,
        connection_name=node.text("connectionName"),
        state=node.text("state"),
        addresses=tuple(
            (address.text("type"), address.text("ipAddress"))
            for address in node.items("ipAddresses")
        ),
        require_ssl=ip_configuration.flag("requireSsl"),
        ssl_mode=ip_configuration.text("sslMode"),
    )
    return PlatformFacts(sql_instances=(instance,))
