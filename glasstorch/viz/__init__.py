"""glasstorch.viz: see what training does.

    plots.py    training curves, decision boundaries, loss landscapes (contour + optimizer path, 3-D surface),
                confusion matrices, image grids, conv filters and feature maps, activations, gradient flow
    graph.py    draw_graph: the autograd graph behind a tensor, as Graphviz DOT (SVG/PNG with `dot`)
    summary.py  model_summary (layers, output shapes, parameter counts) and capture_outputs, via forward hooks

matplotlib is imported only when a plot is drawn.
"""
from .graph import GraphDrawing, draw_graph
from .plots import (gradient_norms, optimizer_path, plot_activations, plot_confusion_matrix, plot_decision_boundary,
                    plot_feature_maps, plot_filters, plot_function_contour, plot_gradient_flow, plot_history,
                    plot_surface, show_images)
from .summary import ModelSummary, capture_outputs, model_summary

__all__ = ["GraphDrawing", "ModelSummary", "capture_outputs", "draw_graph", "gradient_norms", "model_summary",
           "optimizer_path", "plot_activations", "plot_confusion_matrix", "plot_decision_boundary",
           "plot_feature_maps", "plot_filters", "plot_function_contour", "plot_gradient_flow", "plot_history",
           "plot_surface", "show_images"]
