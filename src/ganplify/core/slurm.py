"""A check at submission: a SLURM request that no node of its partition can satisfy fails fast.

SLURM accepts a job that asks for more than any node of its partition has (CPUs, GPUs, memory)
and keeps it pending for ever (reason ``PartitionConfig``, or ``Resources`` when the job fits no
single node although each resource alone fits some node); Snakemake waits for it without a word,
and a job cancelled while pending is not reported as failed by the executor plugin either (its
state reads "CANCELLED by <uid>"). So the Snakefile's ``onstart`` — under the SLURM executor,
after the DAG is built and before anything is submitted — hands every job's evaluated request to
:func:`check`, which compares each request with every node of the job's partition (one ``sinfo``
call for all partitions; a job without a partition runs in the cluster's default partition, the
one ``sinfo`` marks with ``*``). A job passes when *one* node has its CPUs, its GPUs (of its
``gpu_model``, where it names one) and its memory at once. Any request that cannot be met stops
the run with one message per rule naming the rule, what it asked for and what the partition's
nodes have. Nothing has run yet, so nothing is lost.

Node states are not looked at: a job that fits a node that is down or drained would wait for it,
not for ever. Requests are checked as the first attempt asks; a retry that grows past every node
(``profiles/slurm/config.yaml`` scales memory and runtime with the attempt) pends, and the
docs' SLURM page says how to see it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: ``sinfo`` output format: partition (``*`` marks the default), node, CPUs, memory (MB), gres
SINFO_FORMAT = "%P|%N|%c|%m|%G"


@dataclass(frozen=True)
class Request:
    """What one job asks SLURM for (``partition`` empty: the cluster's default partition)."""

    rule: str
    partition: str
    cpus: int
    gpus: int
    mem_mb: int
    #: the GPU model the job names (``gpu_model``; empty: any)
    gpu_model: str = ""


@dataclass(frozen=True)
class Node:
    """One node of a partition: its CPUs, memory (MB) and GPUs by model (``""``: no model)."""

    name: str
    cpus: int
    memory_mb: int
    gpus: dict[str, int] = field(default_factory=dict)

    def n_gpus(self, model: str = "") -> int:
        """The node's GPUs of ``model`` (any model when empty)."""
        return self.gpus.get(model, 0) if model else sum(self.gpus.values())

    def fits(self, r: Request) -> bool:
        """Whether this node alone has everything ``r`` asks for."""
        return (
            self.cpus >= r.cpus
            and self.memory_mb >= r.mem_mb
            and self.n_gpus(r.gpu_model) >= r.gpus
        )

    def describe(self) -> str:
        gpus = self.n_gpus()
        models = [m for m in self.gpus if m]
        gpu_text = f"{gpus} GPUs" + (f" ({', '.join(models)})" if models else "")
        return f"{self.name}: {self.cpus} CPUs, {self.memory_mb} MB, {gpu_text}"


def _number(text: str) -> int:
    digits = re.match(r"\d+", text.strip())
    return int(digits.group(0)) if digits else 0


def parse_gres(gres: str) -> dict[str, int]:
    """GPUs by model in a gres string, e.g. ``gpu:a100:2(S:0-1),gpu:1`` → {"a100": 2, "": 1}."""
    gpus: dict[str, int] = {}
    for model, count in re.findall(r"gpu(?::([^:,(]+))?:(\d+)", gres):
        gpus[model] = gpus.get(model, 0) + int(count)
    return gpus


def parse_sinfo(text: str) -> tuple[dict[str, list[Node]], str | None]:
    """(nodes per partition, the default partition) from ``sinfo -h -N -o "%P|%N|%c|%m|%G"``:
    one row per node and partition; ``*`` after a partition's name marks the default."""
    partitions: dict[str, list[Node]] = {}
    default = None
    for line in text.strip().splitlines():
        fields = (line.split("|") + [""] * 5)[:5]
        partition, name, cpus, memory, gres = (f.strip() for f in fields)
        if partition.endswith("*"):
            partition = partition.rstrip("*")
            default = partition
        if not partition:
            continue
        node = Node(name, _number(cpus), _number(memory), parse_gres(gres))
        partitions.setdefault(partition, []).append(node)
    return partitions, default


def cluster_nodes() -> tuple[dict[str, list[Node]], str | None] | None:
    """:func:`parse_sinfo` of the cluster's ``sinfo`` (None when sinfo cannot tell)."""
    cmd = ["sinfo", "-h", "-N", "-o", SINFO_FORMAT]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_sinfo(out) if out.strip() else None


def _largest(nodes: Sequence[Node], r: Request) -> dict[str, int]:
    return {
        "cpus": max(n.cpus for n in nodes),
        "gpus": max(n.n_gpus(r.gpu_model) for n in nodes),
        "mem_mb": max(n.memory_mb for n in nodes),
    }


def unmet_request(r: Request, nodes: Sequence[Node], where: str) -> str | None:
    """Why no node of ``nodes`` can run ``r`` (None when one can)."""
    if any(node.fits(r) for node in nodes):
        return None
    largest = _largest(nodes, r)
    gpu_what = f"GPUs ({r.gpu_model})" if r.gpu_model else "GPUs"
    for what, asked, key in (
        ("CPUs per task", r.cpus, "cpus"),
        (gpu_what, r.gpus, "gpus"),
        ("MB of memory", r.mem_mb, "mem_mb"),
    ):
        if asked > largest[key]:
            return (
                f"rule '{r.rule}' asks for {asked} {what}, but the largest node of {where} has "
                f"{largest[key]}: SLURM would keep it pending for ever (PartitionConfig)."
            )
    shown = "; ".join(n.describe() for n in nodes[:4]) + ("; ..." if len(nodes) > 4 else "")
    return (
        f"rule '{r.rule}' asks for {r.cpus} CPUs per task, {r.gpus} {gpu_what} and "
        f"{r.mem_mb} MB of memory on one node, but no single node of {where} has all of them "
        f"(each alone fits some node; the nodes: {shown}): SLURM would keep it pending for ever."
    )


def impossible_requests(
    requests: Iterable[Request], nodes: dict[str, Sequence[Node]], default: str | None = None
) -> list[str]:
    """One message per rule whose request no single node of its partition can satisfy.

    ``nodes``: the nodes of each partition; a request without a partition is checked against
    the ``default`` partition's. A partition that ``nodes`` does not know is left alone (SLURM
    itself rejects an unknown partition at submission, with a message)."""
    messages: dict[str, str] = {}
    for r in requests:
        partition = r.partition or default
        if r.rule in messages or partition is None or not nodes.get(partition):
            continue
        where = (
            f"partition '{r.partition}'" if r.partition else f"the default partition '{default}'"
        )
        message = unmet_request(r, nodes[partition], where)
        if message:
            messages[r.rule] = message
    return list(messages.values())


def check(requests: Iterable[Request]) -> None:
    """Raise ``ValueError`` listing every request no single node can satisfy (nodes: sinfo)."""
    cluster = cluster_nodes()
    if cluster is None:
        return
    messages = impossible_requests(list(requests), *cluster)
    if messages:
        raise ValueError(
            "SLURM requests no node can satisfy (nothing was submitted):\n  - "
            + "\n  - ".join(messages)
            + "\nCPUs follow the rules' threads, which the config sets (runtime.threads, "
            "runtime.ll_workers); memory, GPUs and partitions: profiles/slurm/config.yaml."
        )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def request_of(job) -> Request:
    """The request of a Snakemake job (its evaluated resources, as the SLURM plugin reads them:
    ``mem_mb``, or ``mem_mb_per_cpu`` times the CPUs)."""
    res = job.resources
    cpus = _int(res.get("cpus_per_task")) or _int(getattr(job, "threads", 1)) or 1
    mem_mb = _int(res.get("mem_mb")) or _int(res.get("mem_mb_per_cpu")) * cpus
    return Request(
        rule=job.rule.name,
        partition=str(res.get("slurm_partition") or ""),
        cpus=cpus,
        gpus=_int(res.get("gpu")),
        mem_mb=mem_mb,
        gpu_model=str(res.get("gpu_model") or ""),
    )
