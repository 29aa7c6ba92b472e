"""The demo: simulated department systems, sample citizens and their consents, all fictitious.

Used by `helhed demo` and by the test suite; nothing here is imported by the gateway's own code.
"""
