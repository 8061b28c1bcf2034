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


def test_the_pending_watch_names_the_rule_and_the_request():
    from ganplify.core import slurm

    squeue = "\n".join(
        [
            "101|PartitionConfig|rule_ll_dctr_wildcards_ild|4|16000M|gres/gpu:1|debug",
            "102|Resources|rule_hl_dctr_wildcards_ild|2|16000M|gres/gpu:1|debug",  # just waits
            "103|PartitionConfig|someone else's job|64|1G||debug",  # not this workflow's
        ]
    )
    jobs = slurm.parse_pending(squeue)
    assert [j.job_id for j in jobs] == ["101", "102"]
    bad = slurm.hopeless(jobs)
    assert [j.rule for j in bad] == ["ll_dctr"] and bad[0].wildcards == "ild"
    node = slurm.parse_nodes("2|7000|gpu:2\n2+|7000|gpu:2\n")
    assert node == slurm.NodeLimits(2, 7000, "gpu:2")
    message = slurm.describe(bad[0], node)
    assert "rule 'll_dctr' (ild)" in message and "partition 'debug'" in message
    assert "4 CPUs per task (the largest node has 2)" in message and "PartitionConfig" in message
