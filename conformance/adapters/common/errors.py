"""The two ways an adapter fails outside the protocol (exit status 2)."""


class AdapterError(Exception):
    """A malformed case or a fault of the adapter itself (exit status 2)."""


class StartupError(AdapterError):
    """The reference cannot be loaded at all (not installed, fails at import,
    lacks something the adapter cannot do without): exit status 2 before
    any case is read, with this one-line reason."""
