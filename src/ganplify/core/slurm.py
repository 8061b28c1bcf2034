"""A watch on this workflow's pending SLURM jobs: a request no node can satisfy fails fast.

SLURM accepts a job that asks for more than any node of its partition has (CPUs, memory, GPUs)
and keeps it pending for ever with a reason such as ``PartitionConfig``; Snakemake waits for it
without a word. :class:`PendingWatch` runs beside Snakemake on the submit host (started by the
Snakefile's ``onstart`` under the SLURM executor): every ``interval`` seconds it lists this
user's pending jobs, and a job of this workflow (its comment is the plugin's
``rule_<name>_wildcards_<values>``) pending for a reason that waiting cannot cure is cancelled,
with one message naming the rule, what it asked for and what the partition's largest node has.
Snakemake then sees the job fail; with ``keep-going`` the rest of the study goes on, and
everything computed is kept.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from dataclasses import dataclass

log = logging.getLogger("ganplify")

#: Pending reasons that no amount of waiting ends (squeue's %r).
HOPELESS = (
    "PartitionConfig",
    "PartitionNodeLimit",
    "PartitionTimeLimit",
    "BadConstraints",
    "QOSMaxCpuPerJobLimit",
    "QOSMaxGRESPerJob",
    "QOSMaxMemoryPerJob",
)
#: squeue's format for :func:`parse_pending`: job id, reason, comment, CPUs, memory, TRES/node,
#: partition
SQUEUE_FORMAT = "%i|%r|%k|%C|%m|%b|%P"


@dataclass(frozen=True)
class PendingJob:
    job_id: str
    reason: str
    rule: str
    wildcards: str
    cpus: int
    memory: str
    tres: str
    partition: str


@dataclass(frozen=True)
class NodeLimits:
    """The largest node of a partition: CPUs, memory (MB) and generic resources."""

    cpus: int
    memory_mb: int
    gres: str


def parse_pending(text: str) -> list[PendingJob]:
    """Rows of ``squeue -h -t PD -o SQUEUE_FORMAT``; jobs without the plugin's rule comment
    (not ours) are left out."""
    jobs = []
    for line in text.strip().splitlines():
        parts = line.split("|")
        if len(parts) != 7 or not parts[2].startswith("rule_"):
            continue
        job_id, reason, comment, cpus, memory, tres, partition = parts
        rule, _, wildcards = comment.removeprefix("rule_").partition("_wildcards_")
        try:
            n_cpus = int(cpus)
        except ValueError:
            n_cpus = 0
        jobs.append(PendingJob(job_id, reason, rule, wildcards, n_cpus, memory, tres, partition))
    return jobs


def parse_nodes(text: str) -> NodeLimits:
    """The largest values of ``sinfo -h -N -p P -o "%c|%m|%G"`` (one row per node)."""
    cpus, memory, gres = 0, 0, []
    for line in text.strip().splitlines():
        c, m, g = (line.split("|") + ["", "", ""])[:3]
        cpus = max(cpus, int(c.rstrip("+") or 0))
        memory = max(memory, int(m.rstrip("+") or 0))
        if g and g != "(null)":
            gres.append(g)
    return NodeLimits(cpus, memory, ",".join(sorted(set(gres))) or "none")


def hopeless(jobs: list[PendingJob]) -> list[PendingJob]:
    """The jobs that wait for a reason waiting does not end."""
    return [j for j in jobs if j.reason in HOPELESS]


def describe(job: PendingJob, node: NodeLimits) -> str:
    """One message naming the rule, its request and the partition's largest node."""
    what = []
    if job.cpus > node.cpus:
        what.append(f"{job.cpus} CPUs per task (the largest node has {node.cpus})")
    if not what:
        what.append(
            f"{job.cpus} CPUs, memory {job.memory}, {job.tres or 'no GRES'} (largest node: "
            f"{node.cpus} CPUs, {node.memory_mb} MB, GRES {node.gres})"
        )
    where = f" ({job.wildcards})" if job.wildcards else ""
    return (
        f"SLURM job {job.job_id} of rule '{job.rule}'{where} can never start in partition "
        f"'{job.partition}' ({job.reason}): it asks for {'; '.join(what)}. Cancelled: lower the "
        f"rule's request (profiles/slurm/config.yaml, set-resources.{job.rule}; CPUs follow the "
        "rule's threads, which the config sets) or choose another partition."
    )


def _run(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout


class PendingWatch(threading.Thread):
    """Every ``interval`` seconds: cancel this user's workflow jobs that can never start."""

    def __init__(self, interval: float = 60.0, stream=None):
        super().__init__(name="ganplify-pending-watch", daemon=True)
        self.interval, self.stream = float(interval), stream or sys.stderr
        self.cancelled: list[str] = []
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def check_once(self) -> list[str]:
        """One look at the queue; returns the messages of the jobs it cancelled."""
        jobs = hopeless(
            parse_pending(_run(["squeue", "--me", "-h", "-t", "PD", "-o", SQUEUE_FORMAT]))
        )
        messages = []
        for job in jobs:
            if job.job_id in self.cancelled:
                continue
            nodes = _run(["sinfo", "-h", "-N", "-p", job.partition, "-o", "%c|%m|%G"])
            message = describe(job, parse_nodes(nodes))
            _run(["scancel", job.job_id])
            self.cancelled.append(job.job_id)
            print(f"ganplify: {message}", file=self.stream, flush=True)
            log.error(message)
            messages.append(message)
        return messages

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.check_once()
            except (OSError, subprocess.SubprocessError) as err:  # the watch never stops a study
                print(f"ganplify: pending-job watch: {err}", file=self.stream, flush=True)
