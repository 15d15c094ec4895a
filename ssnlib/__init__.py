"""ssnlib: Spatially Stochastic Networks for Low Distortion Block-Resampling.

The library behind the ssn-textbook. Everything a chapter computes lives here,
with tests; see the README for the module map.
"""

__version__ = "0.1.0"
