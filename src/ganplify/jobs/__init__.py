"""The workflow's jobs: one module per rules/<stage>.smk, doing I/O and wiring only."""
