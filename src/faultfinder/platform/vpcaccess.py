"""Serverless VPC Access: ``gcloud compute networks vpc-access connectors describe NAME
--region R --format=json``.

Fields as the Serverless VPC Access API v1 defines a Connector
(https://cloud.google.com/vpc/docs/reference/vpcaccess/rest/v1/projects.locations.connectors#Connector):
``name`` (projects/*/locations/*/connectors/*), ``state`` (READY, CREATING, DELETING, ERROR,
UPDATING), ``ipCidrRange``, ``minInstances`` and ``maxInstances`` (the autoscaling group's
bounds; the API reports no current instance count).
"""

from __future__ import annotations

from faultfinder.platform._fields import Node
from faultfinder.platform.facts import Connector, PlatformFacts


def recognises(node: Node) -> bool:
    value = node.value
    return isinstance(value, dict) and "/connectors/" in str(value.get("name", ""))


def read(node: Node) -> PlatformFacts:
    connector = Connector(
        name=node.text("name").rsplit("/", 1)[-1],
        source=node.file,
        state=node.text("state"),
        min_instances=node.integer("minInstances"),
        max_instances=node.integer("maxInstances"),
        ip_range=node.text("ipCidrRange"),
    )
    return PlatformFacts(connectors=(connector,))
