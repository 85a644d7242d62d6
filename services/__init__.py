"""Use cases between the web layer and the models/solver.

Every function takes a SQLAlchemy `Session` first, flushes, and never commits: the
view or the command that called it owns the transaction.
"""
