"""Verification: how far two implementations are apart, quantity by quantity (``compare``), and
the NumPy layers' hand-written backward against central finite differences (``gradcheck``).
Code here checks the engine; it trains nothing.
"""
