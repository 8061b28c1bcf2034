# ganplify: the GANplifying (arXiv:2008.06545) and DCTR (arXiv:2009.03796) studies as a
# Snakemake workflow.
#   local, reduced:  snakemake --cores all --configfile config/demo.yaml
#   full study:      snakemake --cores all            (or --profile profiles/slurm on a cluster)
#   report:          snakemake --report results/report.html
import os
import sys

from snakemake.utils import min_version

# >= 9.14.1: retries with attempt-scaled resources run in a fresh SLURM allocation.
min_version("9.14.1")


configfile: os.path.join(workflow.basedir, "config.yaml")


# The workflow process itself finds the package in this checkout; jobs use the installed one
# (`make setup`, or `pip install -e .` in the environment that runs them).
sys.path.insert(0, os.path.join(workflow.basedir, "src"))
# One HDF5 file per job, gathered by local rules: no locking needed, and it breaks on NFS/Lustre.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")


include: "rules/common.smk"
include: "rules/sample.smk"
include: "rules/fit.smk"
include: "rules/gan.smk"
include: "rules/dctr_amplification.smk"
include: "rules/gather.smk"
include: "rules/forecast.smk"
include: "rules/plots.smk"
include: "rules/dctr_toys.smk"
include: "rules/calo_showers.smk"
include: "rules/calo_generator.smk"
include: "rules/calo_amplification.smk"
include: "rules/calo_forecast.smk"
include: "rules/calo_classifiers.smk"
include: "rules/calo_summary.smk"


report: "report/workflow.rst"


# Under the SLURM executor, before anything is submitted: a job that asks for more CPUs, GPUs or
# memory than any node of its partition has would pend for ever; stop here instead, naming it.
onstart:
    plugin = workflow.executor_plugin
    if plugin is not None and plugin.name == "slurm":
        from ganplify.core.slurm import check, request_of

        check(request_of(job) for job in workflow.dag.needrun_jobs())


rule all:
    default_target: True
    input:
        final_outputs(),
