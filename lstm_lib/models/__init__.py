"""Models: the small trainable models the chapters share, each a recurrent layer and a read-out
(``readout``), the context-window models (``windows``), whole-sequence classifiers
(``seqclass``), a bidirectional LSTM built by hand (``bidirectional``) and the leak-free
forecasters with their scores (``forecast``).
"""
