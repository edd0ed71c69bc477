"""Recipes: standalone training scripts a practitioner copies to their own data.

Each module here imports only the standard library, NumPy and torch (and the package its
data comes from), never the rest of ``lstm_lib``, and has a command line::

    python -m lstm_lib.recipes.char_lm --text FILE --steps N --device cpu --out DIR

A recipe writes a checkpoint directory: ``weights.safetensors`` (no pickle), what else the
model needs to load (a vocabulary as JSON) and ``manifest.json`` (the arguments, the data's
SHA-256, the training curve and the final metrics). ``lstm_lib.checkpoints`` re-evaluates
every checkpoint and replays the start of its training; the chapters load them.

Every recipe module offers the same three functions to that checker: ``load(directory)``,
``evaluate_checkpoint(directory, data_path)`` (the manifest's ``metrics`` recomputed) and
``replay(directory, data_path, steps)`` (the first training losses, recomputed), besides
its ``main(argv)``; and it may set ``DATA_OPTION`` (the command-line option that takes the
data file, ``"--text"`` if unset) and ``REPLAY_TOL`` (the replay's tolerance).
"""
