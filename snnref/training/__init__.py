"""Direct (surrogate-gradient) training: neuron variants, normalizations, losses and gradient methods, one module per paper."""
