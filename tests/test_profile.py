"""`snakemake --profile slurm` (the design card's form) after `make slurm-profile`."""

import os

from conftest import DEMO_CONFIGS, REPO, run, snakemake_cmd


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


def test_requests_no_node_can_satisfy_are_named():
    from ganplify.core import slurm

    node = slurm.parse_nodes("2|7000|gpu:2\n2+|15000|gpu:tesla:1(S:0)\n")
    assert node == slurm.NodeLimits(2, 15000, 2)
    requests = [
        slurm.Request("ll_dctr", "debug", cpus=4, gpus=1, mem_mb=16000),
        slurm.Request("ll_dctr", "debug", cpus=4, gpus=1, mem_mb=1000),  # one message per rule
        slurm.Request("hl_dctr", "debug", cpus=2, gpus=1, mem_mb=1000),  # fits
        slurm.Request("sample", "other", cpus=64, gpus=0, mem_mb=1),  # partition unknown: left
    ]
    messages = slurm.impossible_requests(requests, {"debug": node})
    assert messages == [
        "rule 'll_dctr' asks for 4 CPUs per task, but the largest node of partition 'debug' has "
        "2: SLURM would keep it pending for ever (PartitionConfig).",
        "rule 'll_dctr' asks for 16000 MB of memory, but the largest node of partition 'debug' "
        "has 15000: SLURM would keep it pending for ever (PartitionConfig).",
    ]
