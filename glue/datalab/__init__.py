"""DataLab: a hardened, self-hosted lakehouse platform delivered as infrastructure code."""

__version__ = "0.1.0"


class DatalabError(Exception):
    """An error the operator can act on: the message says what went wrong and what to do."""
