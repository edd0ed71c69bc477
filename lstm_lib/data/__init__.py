"""Data for the chapters, one module per job (import from the module):

- ``encoding``: ``one_hot``, the one-hot coder the other modules share.
- ``windows``: cut a sequence into (nb_samples, seq_length, input_dim) windows and targets.
- ``streams``: lay a long stream out for stateful training (row i continues row i).
- ``corpus``: the counting numbers written out in words, tokenised (context windows).
- ``text``: real text, the source of the pinned keras package (offline), its characters as
  ids, the split by position, and stream and evaluation layouts for a character model.
- ``series``: a noisy periodic series and a linear AR(k) reference forecast.
- ``real_series``: sunspots and Mauna Loa CO2 from statsmodels (offline), monthly means of
  the weekly CO2 with its gaps, and the chronological train / validation / test split.
- ``origins``: forecast origins, the conventions every forecast function follows, and their
  check against a series.
- ``recall``: recall a value a fixed number of steps back (exploding gradients).
- ``memory``: the flip-flop as batched episodes: a marker channel and noisy values, the target
  the latest marked value (gates at work, in the LSTM-cell chapter).
- ``flipflop``: the flip-flop as one long stream of rare pulses, for chunked/stateful training
  (the stateful chapter); ``memory`` is its batched, noisy cousin.
- ``tagging``: does this symbol occur again later? (needs the future) and a Markov
  next-symbol task (must not use it), for the bidirectional chapter.
- ``seq_tasks``: one toy task per architecture (one-to-one ... encoder-decoder).
- ``adding``: the adding problem of Hochreiter & Schmidhuber (1997) and its exact baseline.
- ``vowels``: Japanese Vowels (real utterances of 7 to 29 frames, from sktime, offline), and
  padding a batch of unequal lengths (post or pre) with its mask and lengths.
- ``number_words``: numbers written out in German and French (num2words) with their digits,
  and a split by a hash of the number (the encoder-decoder chapter).
"""
