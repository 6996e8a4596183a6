"""Platform facts + the stack → findings: the faults the platform's own description names,
each on the component it belongs to, and what the platform says is fine (so a probe that
disagrees can say so). Pure: the rules of docs/platform.md, "What it concludes", in
``cloud_rules`` (Cloud Run, Cloud SQL) and ``container_rules`` (Kubernetes, Compose)."""

from __future__ import annotations

from faultfinder.config import Stack
from faultfinder.platform import cloud_rules, container_rules, join
from faultfinder.platform.evidence import Collector, PlatformEvidence, PlatformFinding
from faultfinder.platform.facts import PlatformFacts

__all__ = ["PlatformEvidence", "PlatformFinding", "conclude"]


def conclude(stack: Stack, facts: PlatformFacts) -> PlatformEvidence:
    view = Collector()
    for service in facts.services:
        cloud_rules.judge_cloud_run(stack, facts, service, view)
    # an export has no status: its revisions list says which revision is the newest
    served = {service.name for service in facts.services if service.latest_created}
    for revision in cloud_rules.latest_revisions(facts, served):
        cloud_rules.judge_revision(stack, revision, view)
    for instance in facts.sql_instances:
        cloud_rules.judge_sql_instance(stack, instance, view)
    for endpoints in container_rules.by_service(facts.endpoints):
        container_rules.judge_endpoints(stack, facts, endpoints, view)
    for pod in facts.pods:
        container_rules.judge_pod(stack, facts, pod, join.pod(stack, pod), view)
    for container in facts.containers:
        container_rules.judge_compose(stack, container, view)
    return view.evidence()
