"""Baselines: what an LSTM is measured against, with no recurrent network in them: exact and
smoothed n-gram predictors (``ngram``, ``ngram_lm``) and dynamic time warping with its
nearest-neighbour classifier (``dtw``).
"""
