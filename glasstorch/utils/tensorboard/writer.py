"""`SummaryWriter`: torch.utils.tensorboard's API over tensorboardX's event-file writer.

glasstorch's part is small: turn glasstorch tensors into NumPy arrays, keep torch's signatures and
defaults (`log_dir` = runs/<date>_<host><comment>), and build `add_graph`'s GraphDef from the autograd
graph (torch traces the model with TorchScript instead; see docs/DIFFERENCES.md).
"""
import os
import socket
from datetime import datetime

import numpy as np

from ...tensor import Tensor
from ...viz.graph import draw_graph


def _tensorboardx():
    try:
        import tensorboardX
    except ImportError:
        raise ImportError("glasstorch.utils.tensorboard writes event files with tensorboardX: "
                          "pip install 'glasstorch[tensorboard]' (or pip install tensorboardX)") from None
    return tensorboardX


def _numpy(value):
    """A NumPy array (or Python number) of a glasstorch tensor, array, list or number."""
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return value


def default_log_dir(comment=""):
    """torch's default: runs/<Mon><DD>_<HH-MM-SS>_<hostname><comment>."""
    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)


class SummaryWriter:
    """Writes scalars, histograms, images, figures, text, graphs and hyper-parameters for TensorBoard.

    Args:
        log_dir: the folder of the event files (default `runs/<date>_<host><comment>`).
        comment: appended to the default log_dir.
        purge_step, max_queue, flush_secs, filename_suffix: as torch's.

    Example:
        >>> from glasstorch.utils.tensorboard import SummaryWriter   # doctest: +SKIP
        >>> with SummaryWriter("runs/demo") as writer:                # doctest: +SKIP
        ...     for step in range(3):
        ...         writer.add_scalar("loss/train", 1.0 / (step + 1), step)
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        self.log_dir = str(log_dir) if log_dir is not None else default_log_dir(comment)
        self._writer = _tensorboardx().SummaryWriter(logdir=self.log_dir, purge_step=purge_step,
                                                     max_queue=max_queue, flush_secs=flush_secs,
                                                     filename_suffix=filename_suffix)
        self._max_queue, self._flush_secs = max_queue, flush_secs
        self._sub_writers = {}  # add_scalars' runs: <log_dir>/<main_tag>_<tag>, as torch names them

    def get_logdir(self):
        return self.log_dir

    # ------------------------------------------------------------------ values
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        # new_style / double_precision are accepted; the value is written as TensorBoard's classic scalar
        self._writer.add_scalar(tag, float(np.asarray(_numpy(scalar_value)).reshape(())), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several curves in one chart: each goes to the sub-run `<log_dir>/<main_tag>_<tag>`, as torch's."""
        tbx = _tensorboardx()
        for tag, value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            if run not in self._sub_writers:
                self._sub_writers[run] = tbx.FileWriter(run, self._max_queue, self._flush_secs)
            summary = tbx.summary.scalar(main_tag, float(np.asarray(_numpy(value)).reshape(())))
            self._sub_writers[run].add_summary(summary, global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        self._writer.add_histogram(tag, np.asarray(_numpy(values), dtype=np.float64), global_step, bins, walltime,
                                   max_bins)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        self._writer.add_image(tag, _numpy(img_tensor), global_step, walltime, dataformats=dataformats)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self._writer.add_images(tag, _numpy(img_tensor), global_step, walltime, dataformats=dataformats)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        self._writer.add_figure(tag, figure, global_step, close, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._writer.add_text(tag, text_string, global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """One row of TensorBoard's HParams table (written to a sub-run, as torch does)."""
        # hparam_domain_discrete is accepted; TensorBoard then lists the values it has seen
        metrics = {k: float(np.asarray(_numpy(v)).reshape(())) for k, v in metric_dict.items()}
        self._writer.add_hparams(dict(hparam_dict), metrics, name=run_name, global_step=global_step)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The autograd graph of `model(input_to_model)` in TensorBoard's Graphs tab.

        Parameters are named as in `model.named_parameters()` (dots become TensorBoard's `/` groups);
        each op is its backward node (`AddmmBackward0` ...), as `viz.draw_graph` shows it.
        """
        if input_to_model is None:
            raise ValueError("add_graph needs input_to_model: the graph is recorded by running the model on it")
        inputs = input_to_model if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
        output = model(*inputs)
        output = output[0] if isinstance(output, (tuple, list)) else output
        drawing = draw_graph(output, params=dict(model.named_parameters()), show_grad_norms=False)
        from tensorboardX.proto.event_pb2 import Event
        graph = _graph_def(drawing, verbose)
        self._writer._get_file_writer().add_event(Event(graph_def=graph.SerializeToString()))

    # ------------------------------------------------------------------ lifecycle
    def flush(self):
        self._writer.flush()
        for writer in self._sub_writers.values():
            writer.flush()

    def close(self):
        self._writer.close()
        for writer in self._sub_writers.values():
            writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _graph_def(drawing, verbose=False):
    """The GraphDef (TensorBoard's graph format) of a `viz.draw_graph` drawing."""
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.versions_pb2 import VersionDef

    names = {}
    for node_id, label in drawing.nodes.items():
        first, *rest = label.split("\n")
        if node_id.startswith("leaf"):
            name = first.replace(".", "/")
        else:
            name = f"{first}_{node_id}" if node_id != "output" else "output"
        names[node_id] = (name, first, " ".join(rest))
    inputs = {node_id: [] for node_id in drawing.nodes}
    for a, b in drawing.edges:
        inputs[b].append(names[a][0])
    nodes = []
    for node_id, (name, op, shape) in names.items():
        attr = {"shape": AttrValue(s=shape.encode())} if shape else {}
        if verbose:
            print(f"{name}: {op} {shape} <- {inputs[node_id]}")
        nodes.append(NodeDef(name=name, op="Parameter" if node_id.startswith("leaf") else op,
                             input=inputs[node_id], attr=attr))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
