"""Architectures and applications: spiking blocks and task-specific models, one module per paper."""
