"""The ``ganplify`` command line (``ganplify.cli.main``): single tasks on a user's files."""
