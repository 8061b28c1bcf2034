"""What every part of ganplify uses: configuration, seeds, files, checkpoints, job runtime."""
