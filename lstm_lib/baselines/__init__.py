"""Baselines: what an LSTM is measured against, with no recurrent network in them: exact and
smoothed n-gram predictors (``ngram``, ``ngram_lm``), dynamic time warping with its
nearest-neighbour classifier (``dtw``) and the forecasting baselines, naive, seasonal naive
and ARIMA (``forecast``).
"""
