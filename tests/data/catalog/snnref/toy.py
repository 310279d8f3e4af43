"""Fixture module for validator tests."""


def toy_step(x):
    return x


class ToyNeuron:
    pass
