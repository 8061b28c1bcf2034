"""`snakemake --profile slurm` (the design card's form) after `make slurm-profile`."""

import os

import pytest
from conftest import BIN, DEMO_CONFIGS, REPO, run, snakemake_cmd


def test_profile_name_resolves_after_make_slurm_profile(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    dry = snakemake_cmd("--profile", "slurm", "-n", "--configfile", *DEMO_CONFIGS)
    dry += ["-d", str(tmp_path / "work")]

    before = run(dry, env=env, check=False, cwd=tmp_path)
    assert before.returncode != 0  # the bare name is not found in profiles/

    run(
        [
            "make",
            "-s",
            "-C",
            str(REPO),
            "slurm-profile",
            f"SNAKEMAKE_PROFILES={tmp_path / 'config' / 'snakemake'}",
        ],
        env=env,
    )
    link = tmp_path / "config" / "snakemake" / "slurm"
    assert link.resolve() == (REPO / "profiles" / "slurm").resolve()

    after = run(dry, env=env, cwd=tmp_path)
    assert "This was a dry-run" in after.stdout + after.stderr


SINFO = """\
debug*|small1|2|7000|gpu:2
debug*|small2|2+|7000|(null)
debug*|big|8|15000|gpu:tesla:1(S:0)
gpu|g1|16|64000|gpu:a100:4(S:0-1),gpu:v100:2
"""


def test_sinfo_rows_are_nodes_of_partitions():
    from ganplify.core import slurm

    nodes, default = slurm.parse_sinfo(SINFO)
    assert default == "debug" and set(nodes) == {"debug", "gpu"}
    assert nodes["debug"] == [
        slurm.Node("small1", 2, 7000, {"": 2}),
        slurm.Node("small2", 2, 7000, {}),
        slurm.Node("big", 8, 15000, {"tesla": 1}),
    ]
    g1 = nodes["gpu"][0]
    assert g1.n_gpus() == 6 and g1.n_gpus("a100") == 4 and g1.n_gpus("h100") == 0


def test_a_job_must_fit_one_node_not_each_resource_some_node():
    """2 GPUs fit small1 and 8 CPUs fit big, but no node has both: the old check (each
    resource's largest value across nodes) let it pass; it would pend for ever."""
    from ganplify.core import slurm

    nodes, default = slurm.parse_sinfo(SINFO)
    requests = [
        slurm.Request("ll_dctr", "debug", cpus=8, gpus=2, mem_mb=1000),  # no single node
        slurm.Request("ll_dctr", "debug", cpus=1, gpus=0, mem_mb=1),  # one message per rule
        slurm.Request("hl_dctr", "debug", cpus=8, gpus=1, mem_mb=15000),  # fits big exactly
        slurm.Request("calo_judge", "debug", cpus=4, gpus=0, mem_mb=16000),  # memory of none
        slurm.Request("sample", "other", cpus=64, gpus=0, mem_mb=1),  # partition unknown: left
        slurm.Request("toy_dctr", "gpu", cpus=4, gpus=3, mem_mb=1, gpu_model="a100"),  # fits
        slurm.Request("train_block", "gpu", cpus=4, gpus=3, mem_mb=1, gpu_model="v100"),
    ]
    messages = slurm.impossible_requests(requests, nodes, default)
    assert len(messages) == 3, messages
    assert messages[0].startswith(
        "rule 'll_dctr' asks for 8 CPUs per task, 2 GPUs and 1000 MB of memory on one node, but "
        "no single node of partition 'debug' has all of them"
    )
    assert "small1: 2 CPUs, 7000 MB, 2 GPUs" in messages[0]
    assert messages[1] == (
        "rule 'calo_judge' asks for 16000 MB of memory, but the largest node of partition "
        "'debug' has 15000: SLURM would keep it pending for ever (PartitionConfig)."
    )
    assert messages[2].startswith("rule 'train_block' asks for 3 GPUs (v100), but the largest")
    assert messages[2].endswith("has 2: SLURM would keep it pending for ever (PartitionConfig).")


def test_a_job_without_partition_is_checked_against_the_default_partition():
    from ganplify.core import slurm

    nodes, default = slurm.parse_sinfo(SINFO)
    # 16 CPUs fit the gpu partition's node, not the default partition's
    r = slurm.Request("fit", "", cpus=16, gpus=0, mem_mb=100)
    assert slurm.impossible_requests([r], nodes, default) == [
        "rule 'fit' asks for 16 CPUs per task, but the largest node of the default partition "
        "'debug' has 8: SLURM would keep it pending for ever (PartitionConfig)."
    ]
    assert slurm.impossible_requests([r], nodes, None) == []  # no default known: left alone


def _fake_sinfo(tmp_path, monkeypatch, output: str, calls):
    """A ``sinfo`` on PATH that prints ``output`` and records its arguments in ``calls``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "sinfo.out").write_text(output)
    script = bin_dir / "sinfo"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\ncat {tmp_path / "sinfo.out"}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


def test_check_asks_sinfo_once_for_every_partition(tmp_path, monkeypatch):
    from ganplify.core import slurm

    calls = tmp_path / "calls"
    _fake_sinfo(tmp_path, monkeypatch, SINFO, calls)
    ok = [slurm.Request("fit", "", 2, 0, 7000), slurm.Request("toy_dctr", "gpu", 16, 6, 64000)]
    slurm.check(ok)
    bad = [*ok, slurm.Request("ll_dctr", "", cpus=8, gpus=2, mem_mb=100)]
    with pytest.raises(ValueError, match="nothing was submitted") as err:
        slurm.check(bad)
    assert "no single node of the default partition 'debug'" in str(err.value)
    # one sinfo call per check, over all partitions (no -p: a partition-less job needs the default)
    assert calls.read_text().splitlines() == ["-h -N -o %P|%N|%c|%m|%G"] * 2


def test_check_passes_when_sinfo_cannot_tell(tmp_path, monkeypatch):
    from ganplify.core import slurm

    _fake_sinfo(tmp_path, monkeypatch, "", tmp_path / "calls")
    slurm.check([slurm.Request("ll_dctr", "", cpus=999, gpus=9, mem_mb=10**9)])
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # no sinfo at all
    slurm.check([slurm.Request("ll_dctr", "", cpus=999, gpus=9, mem_mb=10**9)])


RETRY_SNAKEFILE = """
rule all:
    input: "hl.done", "block_gan.done", "judge.done"

# fail until the third attempt, logging each attempt's resources
LOG = "echo {resources.mem_mb} {resources.runtime} >>"

rule hl_dctr:
    output: "hl.done"
    shell: LOG + " hl.log; [ $(wc -l < hl.log) -ge 3 ]; touch {output}"

rule train_block:
    input: "run1", "run2", "run3"
    output: "block_{approach}.done"
    shell: LOG + " block.log; [ $(wc -l < block.log) -ge 3 ]; touch {output}"

rule sample:
    output: "run{i}"
    shell: LOG + " run{wildcards.i}.log; touch {output}"

# never succeeds: three attempts (retries: 2), then the run goes on without it (keep-going)
rule calo_judge:
    output: "judge.done"
    shell: LOG + " judge.log; exit 1"
"""


def test_a_failed_job_is_retried_with_more_memory_and_time(tmp_path):
    """profiles/slurm's retries and its attempt-scaled resources, as Snakemake evaluates them
    (the local executor instead of SLURM; the rules borrow the names of the profile's
    set-resources): attempt k asks for k times the memory and runtime of the first."""
    (tmp_path / "Snakefile").write_text(RETRY_SNAKEFILE)
    cmd = [str(BIN / "snakemake"), "--profile", str(REPO / "profiles/slurm")]
    proc = run([*cmd, "--executor", "local", "--cores", "1"], cwd=tmp_path, check=False)
    assert proc.returncode != 0  # calo_judge failed for good

    def attempts(name):
        return [
            tuple(map(int, line.split())) for line in (tmp_path / name).read_text().splitlines()
        ]

    # set-resources: hl_dctr mem_mb 16000 * attempt, runtime 120 * attempt
    assert attempts("hl.log") == [(16000, 120), (32000, 240), (48000, 360)]
    # train_block scales with its inputs (3 runs of approach gan), then with the attempt
    assert attempts("block.log") == [(4300, 18), (8600, 36), (12900, 54)]
    assert attempts("judge.log") == [(16000, 120), (32000, 240), (48000, 360)]
    # default-resources (sample has no entry): 2000 MB and 15 minutes, succeeded at once
    assert attempts("run1.log") == [(2000, 15)]
    assert (tmp_path / "hl.done").exists() and (tmp_path / "block_gan.done").exists()
    assert not (tmp_path / "judge.done").exists()
