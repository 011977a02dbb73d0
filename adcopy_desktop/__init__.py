"""AdCopy Desktop: offline marketing-copy authoring with a local language model."""

__version__ = "0.1.0"
