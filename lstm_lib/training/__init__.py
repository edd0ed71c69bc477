"""Training: the one small loop the chapters share (``loop.fit``, ``History``), truncated BPTT
over a stream (``tbptt``), the losses in the form ``fit`` takes (``losses``) and which
sequences share a batch (``batching``).
"""
