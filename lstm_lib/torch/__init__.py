"""PyTorch twins of ``lstm_lib.numpy``: the same equations from torch ops; autograd backward.

Same constructors, same weights for the same seed, ``torch.nn.LSTM``'s state_dict keys.
"""

from lstm_lib.torch.attention import AdditiveAttention
from lstm_lib.torch.gru import GRU, GRUCell
from lstm_lib.torch.lstm import LSTM, LSTMCell
from lstm_lib.torch.mingru import MinGRU
from lstm_lib.torch.rnn import RNN, RNNCell

__all__ = [
    "LSTM", "LSTMCell", "GRU", "GRUCell", "RNN", "RNNCell",
"AdditiveAttention", "MinGRU",
]
