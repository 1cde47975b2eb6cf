"""torch.einsum: Einstein summation written as the ops it stands for, so its backward comes from theirs.

    einsum("bij,bjk->bik", a, b)   is   a @ b
    einsum("ii->i", x)             is   the diagonal of x
    einsum("...ij->...ji", x)      is   x.transpose(-1, -2)

The equation is read into one list of labels per operand (`...` becomes as many numbered labels as the
dims it covers, right-aligned across operands as broadcasting is). Then, with ops that each have a backward:
  1. a label repeated inside one operand takes that operand's diagonal (`diagonal`);
  2. a label found in one operand only and not in the output is summed out (`sum`);
  3. operands are contracted two at a time, left to right (as torch does without opt_einsum): shared labels
     still needed later are batch dims, shared labels needed nowhere else are summed by a batched matrix
     product: a -> (batch, a-only, summed), b -> (batch, summed, b-only), a @ b;
  4. the result's dims are permuted into the output's order.
"""
import math

from .common import as_tensor
from .matmul import matmul
from .reduce import sum as _sum
from .shape import diagonal, permute, reshape


def _parse(equation, operands):
    """(list of label lists, one per operand; output label list) with `...` expanded to numbered labels."""
    equation = equation.replace(" ", "")
    if "->" in equation:
        lhs, rhs = equation.split("->", 1)
        if "->" in rhs:
            raise RuntimeError("einsum(): more than one '->' found in the equation")
    else:
        lhs, rhs = equation, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): {len(terms)} operands were specified in the equation but {len(operands)} "
                           f"were given")
    ellipsis_dims = 0
    inputs = []
    for term, x in zip(terms, operands):
        letters = term.replace("...", "")
        _check_letters(letters, term)
        if "..." in term:
            covered = x.ndim - len(letters)
            if covered < 0 or term.count("...") > 1:
                raise RuntimeError(f"einsum(): the subscripts '{term}' do not fit an operand of {x.ndim} dims")
            ellipsis_dims = max(ellipsis_dims, covered)
            before, after = term.split("...")
            # right-aligned numbering: the last dim that `...` covers is '...-1' in every operand
            inputs.append(list(before) + [f"...{i - covered}" for i in range(covered)] + list(after))
        else:
            if len(term) != x.ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match "
                                   f"the number of dimensions ({x.ndim}) for operand {len(inputs)}"
                                   + ("" if len(term) > x.ndim else " and no ellipsis was given"))
            inputs.append(list(term))
    ellipsis = [f"...{i - ellipsis_dims}" for i in range(ellipsis_dims)]
    if rhs is None:  # implicit output: the ellipsis dims, then the letters seen exactly once, in alphabetical order
        seen = [c for term in terms for c in term.replace("...", "")]
        return inputs, ellipsis + sorted(c for c in set(seen) if seen.count(c) == 1)
    letters = rhs.replace("...", "")
    _check_letters(letters, rhs)
    if len(set(letters)) != len(letters):
        raise RuntimeError(f"einsum(): output subscript {next(c for c in letters if letters.count(c) > 1)} appears "
                           f"more than once in the output")
    for c in letters:
        if not any(c in labels for labels in inputs):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    if "..." in rhs:
        before, after = rhs.split("...")
        return inputs, list(before) + ellipsis + list(after)
    if ellipsis_dims:
        raise RuntimeError("einsum(): ellipsis dims must appear in the output when an input has them")
    return inputs, list(rhs)


def _check_letters(letters, term):
    for c in letters:
        if not c.isalpha():
            raise RuntimeError(f"einsum(): invalid subscript given at index {term.index(c)} in the equation string, "
                               f"subscripts must be in [a-zA-Z]")


def _sizes(operands, inputs):
    """The size of every label: equal sizes, or 1 broadcast to the other (as torch allows)."""
    sizes = {}
    for x, labels in zip(operands, inputs):
        for label, n in zip(labels, x.shape):
            known = sizes.get(label, 1)
            if n != known and known != 1 and n != 1:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                                   f"subscript {label} has size {n} for one operand and {known} for another")
            sizes[label] = n if known == 1 else known
    return sizes


def _take_diagonals(x, labels):
    """A label repeated in one operand ('ii') keeps only the entries where those dims are equal."""
    labels = list(labels)
    for label in dict.fromkeys(labels):
        while labels.count(label) > 1:
            first = labels.index(label)
            second = labels.index(label, first + 1)
            x = diagonal(x, 0, first, second)  # both dims removed, the diagonal appended last
            labels = [lab for i, lab in enumerate(labels) if i not in (first, second)] + [label]
    return x, labels


def _sum_out(x, labels, keep):
    """Sum over the labels of x that nothing later needs."""
    dims = tuple(i for i, label in enumerate(labels) if label not in keep)
    if not dims:
        return x, labels
    return _sum(x, dims), [label for label in labels if label in keep]


def _arrange(x, labels, order, sizes):
    """x with its dims permuted into `order`, size-1 dims broadcast to `sizes`."""
    x = permute(x, [labels.index(label) for label in order]) if labels != order else x
    full = tuple(sizes[label] for label in order)
    return x.expand(full) if tuple(x.shape) != full else x


def _contract(a, la, b, lb, keep, sizes):
    """Multiply two operands and sum over their shared labels that `keep` does not need: one batched matmul."""
    a, la = _sum_out(a, la, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la))
    batch = [label for label in la if label in lb and label in keep]
    summed = [label for label in la if label in lb and label not in keep]
    a_only = [label for label in la if label not in lb]
    b_only = [label for label in lb if label not in la]
    size = lambda labels: math.prod(sizes[label] for label in labels)  # noqa: E731
    a = reshape(_arrange(a, la, batch + a_only + summed, sizes), (size(batch), size(a_only), size(summed)))
    b = reshape(_arrange(b, lb, batch + summed + b_only, sizes), (size(batch), size(summed), size(b_only)))
    out = matmul(a, b)
    labels = batch + a_only + b_only
    return reshape(out, tuple(sizes[label] for label in labels)), labels


def einsum(equation, *operands):
    """out[output labels] = sum over the other labels of prod_i operand_i[its labels] (torch.einsum)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    operands = [as_tensor(x) for x in operands]
    inputs, output = _parse(equation, operands)
    sizes = _sizes(operands, inputs)
    terms = [_take_diagonals(x, labels) for x, labels in zip(operands, inputs)]
    result, labels = terms[0]
    for i, (x, lx) in enumerate(terms[1:], start=1):
        later = set(output).union(*(set(lab) for _, lab in terms[i + 1:]))
        result, labels = _contract(result, labels, x, lx, later, sizes)
    result, labels = _sum_out(result, labels, set(output))
    return _arrange(result, labels, output, sizes) if output else result
