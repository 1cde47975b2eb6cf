"""Exercises: matmul, the linear layer, conv2d (forward, then backward), max-pool, batch-norm, dropout."""
import numpy as np

from ..nn import functional as F
from ..tensor import tensor
from .framework import CheckFailed, Exercise, call, check_function, expect, time_against


def timed(module, args, glass):
    """Your forward against glasstorch's on the same (larger) inputs."""
    tensors = {k: tensor(v) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v for k, v in args.items()}
    return time_against(lambda: module.forward(**args), lambda: glass(**tensors), repeat=5)


# ----------------------------------------------------------------------------- matmul, linear
def matrices(rng):
    n, k, m = (int(v) for v in rng.integers(2, 7, size=3))
    if n == m:
        m += 1  # non-square, so a transposed answer has the wrong shape
    return {"a": rng.standard_normal((n, k)), "b": rng.standard_normal((k, m))}


def check_matmul(module, rng):
    check_function(module, rng, make=matrices, reference=lambda a, b: a @ b, diff=["a", "b"])
    r = np.random.default_rng(1)
    return timed(module, {"a": r.standard_normal((256, 256)), "b": r.standard_normal((256, 256))}, lambda a, b: a @ b)


def linear_case(rng):
    n, fan_in, fan_out = int(rng.integers(2, 7)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    if fan_in == fan_out:
        fan_out += 1
    return {"x": rng.standard_normal((n, fan_in)), "W": rng.standard_normal((fan_out, fan_in)),
            "b": rng.standard_normal(fan_out)}


def check_linear(module, rng):
    check_function(module, rng, make=linear_case, reference=lambda x, W, b: F.linear(x, W, b), diff=["x", "W", "b"],
                   batch_of=lambda case: len(case["x"]))
    r = np.random.default_rng(1)
    return timed(module, {"x": r.standard_normal((128, 784)), "W": r.standard_normal((256, 784)),
                          "b": r.standard_normal(256)}, lambda x, W, b: F.linear(x, W, b))


MATMUL = Exercise(
    name="matmul", title="matrix multiplication and its two gradients",
    math="""
        C = A @ B                 C[i, j] = sum_k A[i, k] B[k, j]
        dL/dA = dL/dC @ B.T       (n, k) = (n, m) @ (m, k)
        dL/dB = A.T @ dL/dC       (k, m) = (k, n) @ (n, m)
    Check the shapes: each gradient has its input's shape.""",
    starter='''
        def forward(a, b):
            """a: (n, k), b: (k, m) -> c: (n, m)."""
            raise NotImplementedError


        def backward(grad_y, a, b):
            """grad_y: dL/dc (n, m) -> (dL/da (n, k), dL/db (k, m))."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(a, b):
            """a: (n, k), b: (k, m) -> c: (n, m)."""
            return a @ b


        def backward(grad_y, a, b):
            """grad_y: dL/dc (n, m) -> (dL/da (n, k), dL/db (k, m))."""
            return grad_y @ b.T, a.T @ grad_y
    ''',
    check=check_matmul, where=("glasstorch.ops.matmul", "matmul"),
    mistakes={"transposed": [("return grad_y @ b.T, a.T @ grad_y", "return grad_y @ b.T, grad_y.T @ a")]})

LINEAR = Exercise(
    name="linear", title="the linear (affine) layer, torch's layout",
    math="""
        y = x @ W.T + b           x (N, in), W (out, in) as nn.Linear stores it, b (out,)
        dL/dx = dL/dy @ W         (N, in)
        dL/dW = dL/dy.T @ x       (out, in)
        dL/db = sum over the batch of dL/dy      (out,): every sample used b""",
    starter='''
        def forward(x, W, b):
            """x: (N, in), W: (out, in), b: (out,) -> y: (N, out)."""
            raise NotImplementedError


        def backward(grad_y, x, W, b):
            """grad_y: (N, out) -> (dL/dx (N, in), dL/dW (out, in), dL/db (out,))."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(x, W, b):
            """x: (N, in), W: (out, in), b: (out,) -> y: (N, out)."""
            return x @ W.T + b


        def backward(grad_y, x, W, b):
            """grad_y: (N, out) -> (dL/dx (N, in), dL/dW (out, in), dL/db (out,))."""
            return grad_y @ W, grad_y.T @ x, grad_y.sum(axis=0)
    ''',
    check=check_linear, where=("glasstorch.ops.matmul", "linear"),
    mistakes={"transposed": [("return grad_y @ W, grad_y.T @ x, grad_y.sum(axis=0)",
                              "return grad_y @ W, x.T @ grad_y, grad_y.sum(axis=0)")],
              "sum_batch": [("return grad_y @ W, grad_y.T @ x, grad_y.sum(axis=0)", "return grad_y @ W, grad_y.T @ x, grad_y")]})


# ----------------------------------------------------------------------------- conv2d
def conv_case(rng):
    n, c, o = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    k, stride, padding = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
    h, w = int(rng.integers(k, k + 5)), int(rng.integers(k, k + 5))
    return {"x": rng.standard_normal((n, c, h, w)), "w": rng.standard_normal((o, c, k, k)),
            "b": rng.standard_normal(o), "stride": stride, "padding": padding}


def conv_reference(x, w, b, stride, padding):
    return F.conv2d(x, w, b, stride=stride, padding=padding)


def check_conv_forward(module, rng):
    check_function(module, rng, make=conv_case, reference=conv_reference, diff=["x", "w", "b"], backward=None)
    r = np.random.default_rng(1)
    return timed(module, {"x": r.standard_normal((16, 8, 28, 28)), "w": r.standard_normal((16, 8, 3, 3)),
                          "b": r.standard_normal(16), "stride": 1, "padding": 1}, conv_reference)


def check_conv_backward(module, rng):
    check_function(module, rng, make=conv_case, reference=conv_reference, diff=["x", "w", "b"],
                   batch_of=lambda case: len(case["x"]))
    return "backward matches autograd and central differences"


CONV_MATH = """
        y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * xpad[n, c, i*stride + p, j*stride + q]
    im2col: gather every (c, p, q) window of xpad into a row, so the convolution is one matrix product:
        cols (N*OH*OW, C*K*K) @ w.reshape(O, C*K*K).T -> (N*OH*OW, O) -> (N, O, OH, OW)
        OH = (H + 2*padding - K) // stride + 1 (and OW alike)
    backward: dL/dw = dL/dy (as rows).T @ cols; dL/db = dL/dy summed over n, i, j;
              dL/dcols = dL/dy @ w_flat, scattered back (col2im: windows overlap, so add) and un-padded.
    Shapes: x (N, C, H, W), w (O, C, K, K), b (O,), stride and padding ints."""

CONV_SOLUTION_FORWARD = '''
        def im2col(x, k, stride, padding):
            """x (N, C, H, W) -> cols (N*OH*OW, C*k*k), and OH, OW."""
            xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
            n, c, h, w = xp.shape
            oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
            cols = np.empty((n, oh, ow, c, k, k))
            for p in range(k):
                for q in range(k):
                    cols[:, :, :, :, p, q] = xp[:, :, p:p + stride * oh:stride, q:q + stride * ow:stride].transpose(0, 2, 3, 1)
            return cols.reshape(n * oh * ow, c * k * k), oh, ow


        def forward(x, w, b, stride, padding):
            """x: (N, C, H, W), w: (O, C, K, K), b: (O,) -> y: (N, O, OH, OW)."""
            o, k = w.shape[0], w.shape[2]
            cols, oh, ow = im2col(x, k, stride, padding)
            y = cols @ w.reshape(o, -1).T + b
            return y.reshape(x.shape[0], oh, ow, o).transpose(0, 3, 1, 2)
'''

CONV2D_FORWARD = Exercise(
    name="conv2d-forward", title="conv2d forward by im2col", math=CONV_MATH,
    starter='''
        def forward(x, w, b, stride, padding):
            """x: (N, C, H, W), w: (O, C, K, K), b: (O,) -> y: (N, O, OH, OW). Hint: im2col, then one matmul."""
            raise NotImplementedError
    ''',
    solution=CONV_SOLUTION_FORWARD,
    check=check_conv_forward, where=("glasstorch.ops.conv", "conv2d"),
    mistakes={"transposed": [("return y.reshape(x.shape[0], oh, ow, o).transpose(0, 3, 1, 2)",
                              "return y.reshape(x.shape[0], oh, ow, o).transpose(0, 3, 2, 1)")]})

CONV2D_BACKWARD = Exercise(
    name="conv2d-backward", title="conv2d backward (the forward is given)", math=CONV_MATH,
    starter=CONV_SOLUTION_FORWARD + '''

        def backward(grad_y, x, w, b, stride, padding):
            """grad_y: (N, O, OH, OW) -> (dL/dx (N, C, H, W), dL/dw (O, C, K, K), dL/db (O,))."""
            raise NotImplementedError
    ''',
    solution=CONV_SOLUTION_FORWARD + '''

        def backward(grad_y, x, w, b, stride, padding):
            """grad_y: (N, O, OH, OW) -> (dL/dx (N, C, H, W), dL/dw (O, C, K, K), dL/db (O,))."""
            n, c, h, width = x.shape
            o, k = w.shape[0], w.shape[2]
            cols, oh, ow = im2col(x, k, stride, padding)
            g = grad_y.transpose(0, 2, 3, 1).reshape(-1, o)          # (N*OH*OW, O)
            grad_w = (g.T @ cols).reshape(w.shape)
            grad_b = g.sum(axis=0)
            grad_cols = (g @ w.reshape(o, -1)).reshape(n, oh, ow, c, k, k)
            grad_xp = np.zeros((n, c, h + 2 * padding, width + 2 * padding))
            for p in range(k):                                       # col2im: overlapping windows add up
                for q in range(k):
                    grad_xp[:, :, p:p + stride * oh:stride, q:q + stride * ow:stride] += grad_cols[:, :, :, :, p, q].transpose(0, 3, 1, 2)
            return grad_xp[:, :, padding:padding + h, padding:padding + width], grad_w, grad_b
    ''',
    check=check_conv_backward, where=("glasstorch.ops.conv", "conv2d"),
    mistakes={"sum_batch": [("grad_b = g.sum(axis=0)", "grad_b = g.reshape(n, -1, o).sum(axis=1)")]})


# ----------------------------------------------------------------------------- max-pool
def pool_case(rng):
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    k = int(rng.integers(2, 4))
    stride = k
    oh, ow = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    x = rng.permutation(n * c * oh * k * ow * k).reshape(n, c, oh * k, ow * k) / 7.0  # distinct: no ties
    return {"x": x, "kernel_size": k, "stride": stride}


def check_max_pool(module, rng):
    def spread_evenly(case, want, up):  # the gradient shared by the whole window instead of sent to its max
        k, g = case["kernel_size"], up["grad_y"]
        return {"dx": {"tie_routing": np.repeat(np.repeat(g, k, axis=-2), k, axis=-1) / (k * k)}}
    check_function(module, rng, make=pool_case, diff=["x"], variants=spread_evenly,
                   reference=lambda x, kernel_size, stride: F.max_pool2d(x, kernel_size, stride))
    r = np.random.default_rng(1)
    return timed(module, {"x": r.standard_normal((64, 16, 28, 28)), "kernel_size": 2, "stride": 2},
                 lambda x, kernel_size, stride: F.max_pool2d(x, kernel_size, stride))


MAX_POOL = Exercise(
    name="max-pool", title="2-D max pooling",
    math="""
        y[n, c, i, j] = max over the window x[n, c, i*s : i*s + k, j*s : j*s + k]
        dL/dx: each window's dL/dy goes to the one element that was its max; the others get 0
        (with overlapping windows, an element that is the max of several gets the sum).
    Shapes: x (N, C, H, W) -> y (N, C, OH, OW), OH = (H - k) // s + 1. Here s = k (no overlap), no ties.""",
    starter='''
        def forward(x, kernel_size, stride):
            """x: (N, C, H, W) -> y: (N, C, OH, OW), the max of each window."""
            raise NotImplementedError


        def backward(grad_y, x, kernel_size, stride):
            """grad_y: (N, C, OH, OW) -> dL/dx (N, C, H, W)."""
            raise NotImplementedError
    ''',
    solution='''
        def windows(x, k, s):
            """(N, C, OH, OW, k*k): every pooling window as a row."""
            n, c, h, w = x.shape
            oh, ow = (h - k) // s + 1, (w - k) // s + 1
            out = np.empty((n, c, oh, ow, k, k))
            for p in range(k):
                for q in range(k):
                    out[..., p, q] = x[:, :, p:p + s * oh:s, q:q + s * ow:s]
            return out.reshape(n, c, oh, ow, k * k)


        def forward(x, kernel_size, stride):
            """x: (N, C, H, W) -> y: (N, C, OH, OW), the max of each window."""
            return windows(x, kernel_size, stride).max(axis=-1)


        def backward(grad_y, x, kernel_size, stride):
            """grad_y: (N, C, OH, OW) -> dL/dx (N, C, H, W)."""
            k, s = kernel_size, stride
            win = windows(x, k, s)
            n, c, oh, ow, _ = win.shape
            onehot = win == win.max(axis=-1, keepdims=True)           # where each window's max is
            g = (onehot * grad_y[..., None]).reshape(n, c, oh, ow, k, k)
            grad_x = np.zeros_like(x)
            for p in range(k):
                for q in range(k):
                    grad_x[:, :, p:p + s * oh:s, q:q + s * ow:s] += g[..., p, q]
            return grad_x
    ''',
    check=check_max_pool, where=("glasstorch.ops.pool", "max_pool2d"),
    mistakes={"tie_routing": [("onehot = win == win.max(axis=-1, keepdims=True)",
                               "onehot = np.ones_like(win) / (k * k)")]})


# ----------------------------------------------------------------------------- batch-norm
def bn_case(rng):
    n, c = int(rng.integers(3, 8)), int(rng.integers(1, 5))
    return {"x": rng.standard_normal((n, c)) * 2 + 1, "gamma": rng.standard_normal(c), "beta": rng.standard_normal(c),
            "eps": 1e-5}


def check_batch_norm(module, rng):
    check_function(module, rng, make=bn_case, diff=["x", "gamma", "beta"], batch_of=lambda case: len(case["x"]),
                   reference=lambda x, gamma, beta, eps: F.batch_norm(x, None, None, gamma, beta, training=True,
                                                                        eps=eps),
                   edge_cases=[{"x": np.full((4, 2), 3.0) + np.array([[0.0, 1e-4]] * 2 + [[1e-4, 0.0]] * 2),
                                "gamma": np.array([1.5, -0.5]), "beta": np.array([0.1, 0.2])}],  # tiny variance
                   variants=lambda case, want, up: {"y": {"eps_place": _bn_eps_outside(case)}})
    # eval mode and the running statistics, as torch keeps them (momentum 0.1, unbiased variance)
    case = bn_case(rng)
    running_mean, running_var = rng.standard_normal(case["gamma"].shape), rng.uniform(0.5, 2, case["gamma"].shape)
    rm, rv = tensor(running_mean.copy()), tensor(running_var.copy())
    F.batch_norm(tensor(case["x"]), rm, rv, tensor(case["gamma"]), tensor(case["beta"]), training=True, momentum=0.1)
    got = call(module, "update_running", x=case["x"], running_mean=running_mean, running_var=running_var, momentum=0.1)
    if not isinstance(got, tuple) or len(got) != 2:
        raise CheckFailed("update_running must return (new running_mean, new running_var)")
    biased = running_var * 0.9 + 0.1 * case["x"].var(axis=0)
    expect("update_running: running_mean", got[0], rm.numpy())
    expect("update_running: running_var", got[1], rv.numpy(), variants={"running_var": biased})
    want = F.batch_norm(tensor(case["x"]), tensor(running_mean), tensor(running_var), tensor(case["gamma"]),
                        tensor(case["beta"]), training=False, eps=case["eps"]).numpy()
    expect("forward_eval: y", call(module, "forward_eval", x=case["x"], gamma=case["gamma"], beta=case["beta"],
                                   running_mean=running_mean, running_var=running_var, eps=case["eps"]), want)
    return "training and evaluation modes match F.batch_norm"


def _bn_eps_outside(case):
    x = case["x"]
    return case["gamma"] * (x - x.mean(0)) / (np.sqrt(x.var(0)) + case["eps"]) + case["beta"]


BATCH_NORM = Exercise(
    name="batch-norm", title="batch normalisation, training and evaluation",
    math="""
        training:  mu = mean over the batch, var = biased variance (divide by N)
                   x_hat = (x - mu) / sqrt(var + eps);  y = gamma * x_hat + beta
                   running_mean = (1 - momentum) running_mean + momentum mu
                   running_var  = (1 - momentum) running_var  + momentum var_unbiased   (divide by N - 1)
        evaluation: y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
        backward (training): dgamma = sum(dy * x_hat), dbeta = sum(dy),
                   dx = gamma / (N sqrt(var + eps)) * (N dy - sum(dy) - x_hat * sum(dy * x_hat))
    Shapes: x (N, C), gamma, beta, running_mean, running_var (C,).""",
    starter='''
        def forward(x, gamma, beta, eps):
            """Training mode: x (N, C) normalised with the batch's statistics -> y (N, C)."""
            raise NotImplementedError


        def backward(grad_y, x, gamma, beta, eps):
            """grad_y (N, C) -> (dL/dx (N, C), dL/dgamma (C,), dL/dbeta (C,))."""
            raise NotImplementedError


        def update_running(x, running_mean, running_var, momentum):
            """-> (new running_mean, new running_var) after seeing the batch x, as torch updates them."""
            raise NotImplementedError


        def forward_eval(x, gamma, beta, running_mean, running_var, eps):
            """Evaluation mode: normalise with the running statistics -> y (N, C)."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(x, gamma, beta, eps):
            """Training mode: x (N, C) normalised with the batch's statistics -> y (N, C)."""
            x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
            return gamma * x_hat + beta


        def backward(grad_y, x, gamma, beta, eps):
            """grad_y (N, C) -> (dL/dx (N, C), dL/dgamma (C,), dL/dbeta (C,))."""
            n = len(x)
            inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
            x_hat = (x - x.mean(axis=0)) * inv_std
            grad_gamma = (grad_y * x_hat).sum(axis=0)
            grad_beta = grad_y.sum(axis=0)
            grad_x = gamma * inv_std / n * (n * grad_y - grad_beta - x_hat * grad_gamma)
            return grad_x, grad_gamma, grad_beta


        def update_running(x, running_mean, running_var, momentum):
            """-> (new running_mean, new running_var) after seeing the batch x, as torch updates them."""
            mean = (1 - momentum) * running_mean + momentum * x.mean(axis=0)
            var = (1 - momentum) * running_var + momentum * x.var(axis=0, ddof=1)
            return mean, var


        def forward_eval(x, gamma, beta, running_mean, running_var, eps):
            """Evaluation mode: normalise with the running statistics -> y (N, C)."""
            return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    ''',
    check=check_batch_norm, where=("glasstorch.ops.normalization", "batch_norm"),
    mistakes={"running_var": [("x.var(axis=0, ddof=1)", "x.var(axis=0)")],
              "eps_place": [("x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)",
                             "x_hat = (x - x.mean(axis=0)) / (np.sqrt(x.var(axis=0)) + eps)")],
              "sum_batch": [("grad_beta = grad_y.sum(axis=0)\n", "grad_beta = grad_y.sum(axis=0)\n    bad = grad_y\n"),
                            ("return grad_x, grad_gamma, grad_beta", "return grad_x, grad_gamma, bad")]})


# ----------------------------------------------------------------------------- dropout
def dropout_case(rng):
    shape = (int(rng.integers(2, 6)), int(rng.integers(2, 6)))
    p = float(rng.choice([0.2, 0.5, 0.7]))
    return {"x": rng.standard_normal(shape), "mask": (rng.random(shape) >= p).astype(np.float64), "p": p}


def check_dropout(module, rng):
    check_function(module, rng, make=dropout_case, diff=["x"],
                   reference=lambda x, mask, p: x * tensor(mask) / (1 - p),
                   variants=lambda case, want, up: {"y": {"dropout_scale": case["x"] * case["mask"]}})
    x = rng.standard_normal((3, 4))
    expect("forward_eval (dropout does nothing in evaluation)", call(module, "forward_eval", x=x, p=0.5), x,
           variants={"dropout_scale": x * 0.5})
    for p in (0.1, 0.5, 0.8):
        mask = np.asarray(call(module, "make_mask", shape=(200, 500), p=p, rng=np.random.default_rng(3)))
        if mask.shape != (200, 500) or not np.isin(mask, (0, 1)).all():
            raise CheckFailed(f"make_mask: expected a (200, 500) array of 0s and 1s, got shape {mask.shape}")
        kept = mask.mean()
        if abs(kept - (1 - p)) > 0.01:
            raise CheckFailed(f"make_mask(p={p}): keeps {kept:.3f} of the elements, expected about {1 - p:.3f} "
                              "(p is the probability to DROP)", "sign" if abs(kept - p) < 0.01 else None)
    return "training and evaluation modes match inverted dropout"


DROPOUT = Exercise(
    name="dropout", title="inverted dropout",
    math="""
        training: mask ~ Bernoulli(1 - p) (1 = keep), y = x * mask / (1 - p), dL/dx = dL/dy * mask / (1 - p)
        evaluation: y = x (the 1 / (1 - p) in training already keeps the expected value)
    p is the probability to drop an element, as in nn.Dropout(p). Shapes: x, mask, y the same.""",
    starter='''
        def make_mask(shape, p, rng):
            """A 0/1 float mask of `shape` keeping each element with probability 1 - p (rng: np.random.Generator)."""
            raise NotImplementedError


        def forward(x, mask, p):
            """Training mode with the given mask -> y."""
            raise NotImplementedError


        def backward(grad_y, mask, p):
            """-> dL/dx."""
            raise NotImplementedError


        def forward_eval(x, p):
            """Evaluation mode -> y."""
            raise NotImplementedError
    ''',
    solution='''
        def make_mask(shape, p, rng):
            """A 0/1 float mask of `shape` keeping each element with probability 1 - p (rng: np.random.Generator)."""
            return (rng.random(shape) >= p).astype(np.float64)


        def forward(x, mask, p):
            """Training mode with the given mask -> y."""
            return x * mask / (1.0 - p)


        def backward(grad_y, mask, p):
            """-> dL/dx."""
            return grad_y * mask / (1.0 - p)


        def forward_eval(x, p):
            """Evaluation mode -> y."""
            return x
    ''',
    check=check_dropout, where=("glasstorch.nn.functional", "dropout"),
    mistakes={"dropout_scale": [("return x * mask / (1.0 - p)", "return x * mask")],
              "sign": [("return (rng.random(shape) >= p).astype(np.float64)",
                        "return (rng.random(shape) < p).astype(np.float64)")]})

EXERCISES = [MATMUL, LINEAR, CONV2D_FORWARD, CONV2D_BACKWARD, MAX_POOL, BATCH_NORM, DROPOUT]
