"""NumPy implementation: RNN, GRU and LSTM (and additive attention, minGRU) with hand-written
backprop through time."""

from lstm_lib.numpy.activations import dsigmoid, dtanh, sigmoid
from lstm_lib.numpy.attention import AdditiveAttention
from lstm_lib.numpy.gru import GRU, GRUCell
from lstm_lib.numpy.lstm import LSTM, LSTMCell
from lstm_lib.numpy.mingru import MinGRU
from lstm_lib.numpy.rnn import RNN, RNNCell

__all__ = ["LSTM", "LSTMCell", "GRU", "GRUCell", "RNN", "RNNCell", "sigmoid", "dsigmoid", "dtanh",
           "AdditiveAttention", "MinGRU"]
