"""Analysis: measurements of networks, constructed or trained: gradients through time
(``gradients``), the LSTM step's Jacobian (``jacobians``), the vanishing-gradients chapter's
lag profiles and exploding-gradient experiment (``lag_profiles``, ``exploding``), per-character
text features (``text_features``) and a trained character model examined (``charlm``).
"""
