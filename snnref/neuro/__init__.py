"""Neuroscience and learning theory: threshold models, learning rules and neural-data models, one module per paper."""
