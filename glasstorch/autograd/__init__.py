"""Floor 2: reverse-mode automatic differentiation (Function nodes, the backward walk, grad modes, checks)."""
from .engine import backward, grad
from .function import Function, FunctionCtx, Variable, once_differentiable
from .grad_mode import (detect_anomaly, enable_grad, inference_mode, is_anomaly_enabled, is_grad_enabled,
                        no_grad, set_detect_anomaly, set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_gradient
from .trace import trace

__all__ = ["backward", "grad", "Function", "FunctionCtx", "Variable", "once_differentiable", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled", "gradcheck",
           "gradgradcheck", "numerical_gradient", "GradcheckError", "trace"]
