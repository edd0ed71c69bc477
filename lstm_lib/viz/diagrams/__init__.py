"""Diagrams drawn by code (boxes and arrows in Matplotlib), one module per topic:

- ``draw``: the primitives (canvas, box, node, arrow, label) every diagram uses.
- ``cell``: the LSTM cell, one time step.
- ``bilstm``: the bidirectional LSTM unrolled.
- ``windows``: the notes' naive model and its window of past steps.
- ``architectures``: one-to-one, one-to-many, many-to-one, many-to-many, encoder-decoder.
- ``sequences``: what ``return_sequences`` and ``return_state`` give back.
"""
