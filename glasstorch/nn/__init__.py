"""glasstorch.nn: Module and Parameter, the layers, nn.functional, nn.init and nn.utils.

    module.py       Module: registration, parameters(), state_dict, train/eval, hooks, repr
    parameter.py    Parameter, UninitializedParameter
    modules/        the layers, one family per file (linear, conv, pooling, activation, loss, ...)
    functional.py   the stateless forms (F.relu, F.conv2d, F.cross_entropy ...)
    init.py         weight initialisation (kaiming_uniform_, xavier_normal_ ...)
    utils/          clip_grad_norm_, parameters_to_vector ...
"""
from . import functional, init, utils
from .module import Module
from .modules import (CELU, ELU, GELU, GLU, SELU, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d,
                      AdaptiveMaxPool2d, AlphaDropout, AvgPool1d, AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss,
                      BCEWithLogitsLoss, Bilinear, Conv1d, Conv2d, ConvTranspose2d, CosineEmbeddingLoss,
                      CrossEntropyLoss, Dropout, Dropout1d, Dropout2d, Dropout3d, Embedding, Flatten, GaussianNLLLoss,
                      GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase,
                      GroupNorm, Hardsigmoid, Hardswish, Hardtanh, HuberLoss, Identity, KLDivLoss, L1Loss,
                      LayerNorm, LazyConv2d, LazyLinear, LazyModuleMixin, LeakyReLU, Linear, LogSigmoid, LogSoftmax,
                      MarginRankingLoss, MaxPool1d, MaxPool2d, Mish, ModuleDict, ModuleList, MSELoss, MultiheadAttention,
                      NLLLoss,
                      ParameterDict, ParameterList, PoissonNLLLoss, PReLU, ReLU, ReLU6, Sequential, Sigmoid, SiLU,
                      SmoothL1Loss, SoftMarginLoss, Softmax, Softmin, Softplus, Softsign, Tanh, Tanhshrink,
                      Threshold, Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                      TransformerEncoderLayer, Unflatten)
from .parameter import Parameter, UninitializedParameter
