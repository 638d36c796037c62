"""vendor-slim: carve a minimal, standalone, buildable C++/CUDA tree out of a huge repository."""

__version__ = "0.1.0"
