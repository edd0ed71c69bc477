"""NumPy implementation: RNN and LSTM with hand-written backprop through time."""

from lstm_lib.numpy.activations import dsigmoid, dtanh, sigmoid
from lstm_lib.numpy.lstm import LSTM, LSTMCell
from lstm_lib.numpy.rnn import RNN, RNNCell

__all__ = ["LSTM", "LSTMCell", "RNN", "RNNCell", "sigmoid", "dsigmoid", "dtanh"]
