"""vislab: image-recognition services as tidy DataFrames, honest metrics and widgets."""

__version__ = "0.1.0"
