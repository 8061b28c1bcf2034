"""A check at submission: a SLURM request no node of its partition can satisfy fails fast.

SLURM accepts a job that asks for more than any node of its partition has (CPUs, GPUs, memory)
and keeps it pending for ever (reason ``PartitionConfig``); Snakemake waits for it without a
word, and a job cancelled while pending is not reported as failed by the executor plugin either
(its state reads "CANCELLED by <uid>"). So the Snakefile's ``onstart`` — under the SLURM executor,
after the DAG is built and before anything is submitted — hands every job's evaluated request to
:func:`impossible_requests`, which compares them with the largest node of each partition
(``sinfo``); any request that cannot be met stops the run with one message per rule naming the
rule, the resource, what it asked for and what the partition has. Nothing has run yet, so
nothing is lost.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    """What one job asks SLURM for."""

    rule: str
    partition: str
    cpus: int
    gpus: int
    mem_mb: int


@dataclass(frozen=True)
class NodeLimits:
    """The largest node of a partition: CPUs, memory (MB) and GPUs."""

    cpus: int
    memory_mb: int
    gpus: int


def parse_nodes(text: str) -> NodeLimits:
    """The largest values in ``sinfo -h -N -p P -o "%c|%m|%G"`` (one row per node)."""
    cpus, memory, gpus = 0, 0, 0
    for line in text.strip().splitlines():
        c, m, g = (line.split("|") + ["", "", ""])[:3]
        cpus = max(cpus, int(c.rstrip("+") or 0))
        memory = max(memory, int(m.rstrip("+") or 0))
        for count in re.findall(r"gpu(?::[^:,(]+)?:(\d+)", g):
            gpus = max(gpus, int(count))
    return NodeLimits(cpus, memory, gpus)


def node_limits(partition: str) -> NodeLimits | None:
    """The partition's largest node, from ``sinfo`` (None when sinfo cannot tell)."""
    cmd = ["sinfo", "-h", "-N", "-o", "%c|%m|%G"] + (["-p", partition] if partition else [])
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_nodes(out) if out.strip() else None


def impossible_requests(requests: Iterable[Request], limits: dict[str, NodeLimits]) -> list[str]:
    """One message per rule and resource whose request exceeds the partition's largest node."""
    messages: dict[tuple[str, str], str] = {}
    for r in requests:
        node = limits.get(r.partition)
        if node is None:
            continue
        where = f"partition '{r.partition}'" if r.partition else "the default partition"
        for what, asked, has, key in (
            ("CPUs per task", r.cpus, node.cpus, "cpus"),
            ("GPUs", r.gpus, node.gpus, "gpus"),
            ("MB of memory", r.mem_mb, node.memory_mb, "mem_mb"),
        ):
            if asked > has and (r.rule, key) not in messages:
                messages[(r.rule, key)] = (
                    f"rule '{r.rule}' asks for {asked} {what}, but the largest node of {where} "
                    f"has {has}: SLURM would keep it pending for ever (PartitionConfig)."
                )
    return list(messages.values())


def check(requests: Iterable[Request]) -> None:
    """Raise ``ValueError`` listing every request no node can satisfy (partitions via sinfo)."""
    requests = list(requests)
    limits = {}
    for partition in {r.partition for r in requests}:
        node = node_limits(partition)
        if node is not None:
            limits[partition] = node
    messages = impossible_requests(requests, limits)
    if messages:
        raise ValueError(
            "SLURM requests no node can satisfy (nothing was submitted):\n  - "
            + "\n  - ".join(messages)
            + "\nCPUs follow the rules' threads, which the config sets (gan.threads, dctr.threads, "
            "calorimeter.ll.workers); memory, GPUs and partitions: profiles/slurm/config.yaml."
        )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def request_of(job) -> Request:
    """The request of a Snakemake job (its evaluated resources, as the SLURM plugin reads them)."""
    res = job.resources
    cpus = _int(res.get("cpus_per_task")) or _int(getattr(job, "threads", 1)) or 1
    return Request(
        rule=job.rule.name,
        partition=str(res.get("slurm_partition") or ""),
        cpus=cpus,
        gpus=_int(res.get("gpu")),
        mem_mb=_int(res.get("mem_mb")),
    )
