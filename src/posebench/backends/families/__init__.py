"""The built-in estimator families, one module each (registered in ``posebench.backends.family_registry``)."""
