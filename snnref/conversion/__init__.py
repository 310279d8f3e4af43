"""ANN-to-SNN conversion: the shared conversion toolkit and one module per paper's conversion rule."""
