"""Fixture conversion module."""


class ClipFloor:
    """Clip-floor activation."""

    def __init__(self, levels: int = 4):
        self.levels = levels

    def __call__(self, z):
        return min(max(int(z * self.levels) / self.levels, 0.0), 1.0)
