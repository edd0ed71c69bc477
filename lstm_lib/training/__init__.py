"""Training: the one small loop the chapters share (``loop.fit``, ``History``), clipping by
the global norm and the global norm itself (``clipping``), truncated BPTT over a stream
(``tbptt``), the losses in the form ``fit`` takes (``losses``) and which sequences share a
batch (``batching``).
"""
