"""Keras: its vocabulary as PyTorch layers (``layers``: ``LSTMLayer``, ``RepeatVector``,
``TimeDistributed``, shape traces) and the weights between the PyTorch and Keras 3 layouts
(``bridge``). Keras itself is imported only where a function needs it.
"""
