"""Assay: an open platform for taking down counterfeit listings fairly and fast."""

__version__ = "0.1.0"
