"""Errors a person reads: one clear sentence, never a traceback."""


class BenchError(Exception):
    """A problem the user can act on; ``str(err)`` is the sentence to show."""


class InputError(BenchError):
    """The clip, annotation or other input cannot be used."""


class ModelUnavailable(BenchError):
    """A model file could not be found, fetched or verified."""


class BackendUnavailable(BenchError):
    """A backend cannot run here (missing model, package or provider)."""


class ServerBusy(BenchError):
    """The server has no room for this work now; nothing is wrong with the input."""


class RunCancelled(BenchError):
    """The user cancelled the work (a button, Ctrl-C); nothing of it was kept."""
