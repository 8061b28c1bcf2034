"""The calorimeter: an ILD-like geometry, a shower simulator, file formats, features."""
