"""Draw computation graphs with data, gradients and local derivatives; step through backprop.

micrograd's ``draw_dot`` shows each Value's data and grad; torchviz shows neither values nor
gradients. Here every edge also carries its *local derivative* d out / d in, the number the engine
stored when the op ran, so the chain rule can be read straight off the picture::

    dL/d parent  +=  (d node / d parent)  x  dL/d node
                      ^ label on the edge      ^ grad in the node's box

What is drawn (``draw_graph``):

* each Value is a record box ``name | data | grad``; its op (``+``, ``x``, ``tanh``, ``dot`` ...)
  is its own small oval in front of it. Fill colours tell the kinds apart: parameters (orange),
  inputs (blue), constants (grey, no grad shown), computed nodes (white), the output (green);
  ``legend=True`` adds a key.
* node ids are ``n0, n1, ...`` by position in ``topological_order(root)``: the same graph gives the
  same DOT text on every run, and unlabelled nodes are called by those ids in the text walkthrough.
* ``collapse="neuron"`` draws each neuron (a ``dot`` with Parameter weights, plus its activation)
  as one box, so a whole MLP fits on a page.
* ``step=k`` draws the graph as it stands after k steps of the backward pass (``drawn_steps``;
  with ``collapse="neuron"`` a neuron's box is one step: its activation and its dot).

Stepping (``backprop_steps``, ``explain_backward``, ``step_through``, ``export_frames``,
``export_html``): the backward pass replayed one node at a time, in the order ``Value.backward``
processes them, with each chain-rule product written out. PyTorch shows none of this: it keeps no
interior gradients at all. ``export_html`` writes the steps as one self-contained page (a slider,
no kernel, no network; built by ``tinygrad_edu.page``), and the output ``step_through`` saves in a
notebook carries that page too.

Rendering (``render``, ``render_bytes``) runs the ``graphviz-pure`` program installed with the
package (or, where it is missing, a system ``dot``); when neither is found, a
``GraphvizNotFoundError`` says how to install one, and ``graph.source`` (the DOT text) is still
available.

The package's modules: ``steps`` (the backward pass as text), ``drawing`` (``draw_graph``),
``rendering``, ``stepping`` (frames, slider, page, GIF) and ``_common`` (colours, formats, errors);
everything is importable from ``tinygrad_edu.viz`` as before.
"""

from __future__ import annotations

from tinygrad_edu.explain import Nudge, nudge, paths  # noqa: F401  (viz.nudge, as the course says)
from tinygrad_edu.viz._common import (  # noqa: F401
    _INSTALL_HELP,
    _OP_SYMBOLS,
    ACTIVATIONS,
    CURRENT_COLOR,
    CURRENT_FILL,
    DEFAULT_MAX_NODES,
    DONE_EDGE_COLOR,
    FILL,
    FONT,
    PATH_COLOR,
    PENDING_COLOR,
    GraphTooLargeError,
    GraphvizNotFoundError,
    _escape,
    format_matrix,
    format_number,
    node_kind,
)
from tinygrad_edu.viz.drawing import (  # noqa: F401
    _NEURON_PREFIX,
    Drawing,
    DrawnStep,
    _add_legend,
    _check_draw_arguments,
    _check_size,
    _draw_edges,
    _draw_nodes,
    _drawn_steps,
    _Edge,
    _find_neurons,
    _grad_field,
    _Layout,
    _layout,
    _Neuron,
    _new_drawing,
    _node_edges,
    _op_label,
    _record,
    _step_state,
    _StepState,
    draw_graph,
    drawn_steps,
)
from tinygrad_edu.viz.nudging import DEFAULT_NUDGES, nudge_frames, nudge_slider  # noqa: F401
from tinygrad_edu.viz.quiz import (  # noqa: F401
    Question,
    check_answer,
    quiz,
    quiz_frames,
    quiz_questions,
)
from tinygrad_edu.viz.rendering import (  # noqa: F401
    _renderer,
    render,
    render_bytes,
)
from tinygrad_edu.viz.stepping import (  # noqa: F401
    _MAX_STRIP_PIXELS,
    _html_escape,
    _png_strip,
    _static_output,
    _stepper_box,
    _svg_text,
    backprop_frames,
    export_frames,
    export_gif,
    export_html,
    step_caption,
    step_frames,
    step_through,
)
from tinygrad_edu.viz.steps import (  # noqa: F401
    BackpropStep,
    EdgeProduct,
    _backprop_steps,
    _check_step,
    _formula,
    _names,
    _totals_after,
    backprop_steps,
    explain_backward,
    gradients_after,
    print_backprop,
)

__all__ = [
    "DEFAULT_MAX_NODES",
    "ACTIVATIONS",
    "BackpropStep",
    "Drawing",
    "DrawnStep",
    "EdgeProduct",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "backprop_frames",
    "backprop_steps",
    "draw_graph",
    "drawn_steps",
    "explain_backward",
    "export_frames",
    "export_gif",
    "export_html",
    "format_matrix",
    "format_number",
    "gradients_after",
    "node_kind",
    "print_backprop",
    "Nudge",
    "nudge",
    "DEFAULT_NUDGES",
    "nudge_frames",
    "nudge_slider",
    "paths",
    "Question",
    "check_answer",
    "quiz",
    "quiz_frames",
    "quiz_questions",
    "render",
    "render_bytes",
    "step_caption",
    "step_frames",
    "step_through",
]
