"""Consent: the decision engine (pure) and the rules a consent must meet before it is recorded."""

from consent.decision import AccessRequest, Decision, Reason, Ruling, decide

__all__ = ["AccessRequest", "Decision", "Reason", "Ruling", "decide"]
