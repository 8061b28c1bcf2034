"""Truth densities, sampled and evaluated exactly."""
