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
