"""A tour of torch.distributions' shapes and methods, the way its documentation walks through them:
batch_shape and event_shape, sample(sample_shape), expand, Independent, log_prob / cdf / icdf / entropy,
mean / variance / stddev, support and arg_constraints, validate_args, and the KL pairs. Values that come from
the random generator are printed as shapes and checks; everything else as numbers."""
import torch
from torch.distributions import (Bernoulli, Categorical, Exponential, Independent, MultivariateNormal, Normal,
                                 OneHotCategorical, Uniform, constraints, kl_divergence)

torch.manual_seed(0)

normal = Normal(torch.tensor([0.0, 1.0, -1.0]), torch.tensor([1.0, 0.5, 2.0]))
print("Normal batch_shape", list(normal.batch_shape), "event_shape", list(normal.event_shape),
      "sample((4, 2))", list(normal.sample((4, 2)).shape))
value = torch.tensor([0.5, 0.5, 0.5])
print("log_prob", [round(v, 5) for v in normal.log_prob(value).tolist()])
print("cdf", [round(v, 5) for v in normal.cdf(value).tolist()])
print("icdf(0.975)", [round(v, 4) for v in normal.icdf(torch.tensor(0.975)).tolist()])
print("entropy", [round(v, 5) for v in normal.entropy().tolist()], "variance", normal.variance.tolist())

diagonal = Independent(normal, 1)
print("Independent batch_shape", list(diagonal.batch_shape), "event_shape", list(diagonal.event_shape),
      "log_prob", round(diagonal.log_prob(value).item(), 5))
wide = normal.expand((2, 3))
print("expand:", list(wide.batch_shape), list(wide.sample().shape), list(wide.log_prob(value).shape))

mvn = MultivariateNormal(torch.zeros(2), scale_tril=torch.tensor([[1.0, 0.0], [0.6, 0.8]]))
print("MVN covariance", mvn.covariance_matrix.flatten().tolist(), "log_prob(1, 1)",
      round(mvn.log_prob(torch.tensor([1.0, 1.0])).item(), 5))
print("MVN rsample differentiable:", mvn.has_rsample, list(mvn.rsample((3,)).shape))

exp = Exponential(torch.tensor([0.5, 2.0]))
print("Exponential mean", exp.mean.tolist(), "stddev", exp.stddev.tolist(),
      "cdf(1)", [round(v, 5) for v in exp.cdf(torch.tensor(1.0)).tolist()],
      "icdf(0.5)", [round(v, 5) for v in exp.icdf(torch.tensor(0.5)).tolist()])
uniform = Uniform(torch.tensor(-1.0), torch.tensor(3.0))
print("Uniform mean", uniform.mean.item(), "variance", round(uniform.variance.item(), 5), "entropy",
      round(uniform.entropy().item(), 5), "log_prob outside", uniform.log_prob(torch.tensor(2.5)).item())

cat = Categorical(probs=torch.tensor([[0.1, 0.6, 0.3], [0.25, 0.25, 0.5]]))
print("Categorical batch", list(cat.batch_shape), "log_prob", [round(v, 5) for v in
                                                               cat.log_prob(torch.tensor([1, 2])).tolist()],
      "entropy", [round(v, 5) for v in cat.entropy().tolist()], "mode", cat.mode.tolist())
print("enumerate_support", cat.enumerate_support().tolist())
onehot = OneHotCategorical(logits=torch.tensor([0.0, 1.0, 2.0]))
print("OneHot event_shape", list(onehot.event_shape), "sample sums to 1:", onehot.sample().sum().item(),
      "log_prob", round(onehot.log_prob(torch.tensor([0.0, 0.0, 1.0])).item(), 5))

print("supports:", normal.support, exp.support, Bernoulli(0.3).support)
print("arg_constraints:", sorted(Normal.arg_constraints), Exponential.arg_constraints["rate"])
print("positive holds:", constraints.positive.check(torch.tensor([1.0, -1.0])).tolist())
try:
    Normal(torch.tensor(0.0), torch.tensor(-1.0))
except ValueError as error:
    print("invalid scale rejected:", "GreaterThan" in str(error))
print("validate_args=False accepts it:", Normal(0.0, -1.0, validate_args=False).scale.item())

p, q = Normal(0.0, 1.0), Normal(1.0, 2.0)
print("KL(N(0,1)||N(1,2))", round(kl_divergence(p, q).item(), 6), " KL(U||N)",
      round(kl_divergence(uniform, q).item(), 6), " KL(Exp||Exp)",
      [round(v, 6) for v in kl_divergence(exp, Exponential(torch.tensor([1.0, 1.0]))).tolist()])
try:
    kl_divergence(Independent(normal, 1), q)
except NotImplementedError:
    print("no KL for (Independent, Normal): NotImplementedError")
