"""Attention layers: MultiheadAttention (torch keeps it in activation.py; here it has its own room, and
nn.MultiheadAttention / nn.modules.activation users import it from glasstorch.nn as usual).

The math is F.multi_head_attention_forward; the from-scratch version written with plain matmul and softmax,
for reading, is `SimpleMultiheadAttention` in transformer.py (tested equal with the same weights).
"""
from ...tensor import empty
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import Linear


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear layer (torch's name for MultiheadAttention.out_proj, which its quantization tools leave alone)."""


class MultiheadAttention(Module):
    """MultiHead(Q, K, V) = concat(head_1, ..., head_h) W_o^T + b_o,  head_i = softmax(Q_i K_i^T / sqrt(d)) V_i

    where Q_i, K_i, V_i are the i-th slices (d = embed_dim / num_heads columns each) of the in-projections
    Q W_q^T + b_q, K W_k^T + b_k, V W_v^T + b_v.

    Args:
        embed_dim: size of the query's features (E), also the output's.
        num_heads: number of heads; embed_dim must be divisible by it.
        dropout: dropout probability on the attention weights (training only). Default: 0.0.
        bias: in_proj_bias and out_proj.bias. Default: True.
        add_bias_kv: learn one extra key and value (bias_k, bias_v) appended to every sequence. Default: False.
        add_zero_attn: append an all-zero key and value to every sequence. Default: False.
        kdim, vdim: features of key and value (default embed_dim); when they differ from embed_dim the
            in-projection is three weights q_proj_weight, k_proj_weight, v_proj_weight instead of in_proj_weight.
        batch_first: inputs and output are (N, L, E) instead of (L, N, E). Default: False.

    Shape: query (L, N, E), key (S, N, kdim), value (S, N, vdim) (or (N, L, E) ... with batch_first; or
    unbatched (L, E), (S, kdim), (S, vdim)) -> attn_output (L, N, E), attn_weights (N, L, S) averaged over heads
    (N, num_heads, L, S with average_attn_weights=False), or None with need_weights=False.
    Masks: key_padding_mask (N, S) and attn_mask (L, S) or (N*num_heads, L, S); bool True means "may NOT
    attend" (the opposite of F.scaled_dot_product_attention's), a float mask is added to the scores.

    Parameters as torch's (state_dicts load both ways): in_proj_weight (3E, E) xavier_uniform_, in_proj_bias (3E)
    zeros, out_proj.weight (E, E) Linear's init, out_proj.bias zeros, bias_k/bias_v (1, 1, E) xavier_normal_.

    Example::

        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = torch.randn(2, 5, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        (glasstorch.Size([2, 5, 16]), glasstorch.Size([2, 5, 5]))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        make = dict(device=device, dtype=dtype)
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **make))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **make))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **make))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **make))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **make))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **make)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **make))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **make))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(attn_output, attn_weights); is_causal is a hint that attn_mask is the causal mask (it must be given)."""
        batched = query.ndim == 3
        if self.batch_first and batched:  # the math is sequence first: (N, L, E) -> (L, N, E)
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights
