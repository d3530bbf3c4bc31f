"""The "How one value is computed" dock's controller (issue 13, item 6): which value of which layer, for which image.

The image is the Draw tab's drawing (``session.drawing``; until something is drawn, the first test digit). The
layer's output for it comes from one forward pass (:meth:`Model.activations`, about a millisecond or two for lenet:
done here, on a private copy of the model kept in step lazily by :class:`~mnist_studio.nn.explain.Explainer`); the
terms of the picked value from :func:`~mnist_studio.nn.values.explain_value`, with those activations, so a click
costs no second pass. Redone when the drawing, the weights or the choice change, and only while the dock is
visible (a hidden dock is only marked out of date).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QTimer

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.inside.one_value_view import OneValueView
from mnist_studio.nn.blas import single_threaded_blas
from mnist_studio.nn.explain import Explainer
from mnist_studio.studio.activations import heat_strip
from mnist_studio.nn.values import explain_value, explainable_layers, source_shape

DENSE_ROW = 16  # a Dense layer's units are shown in rows of this many


class OneValuePanel(OneValueView):
    def __init__(self, session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.explainer = Explainer()
        self.explanation = None  # the ValueExplanation shown
        self.index: tuple[int, ...] | None = None  # the picked value's position in the layer's output
        self._activations = None
        self._dirty = True
        self.layer_box.currentIndexChanged.connect(lambda _i: self._layer_changed())
        self.channel.valueChanged.connect(lambda _v: self._channel_changed())
        self.valueClicked.connect(self.pick)
        self.conv_terms.channelChanged.connect(lambda _c: self._show_terms())
        session.modelChanged.connect(self._on_model)
        # a training snapshot's redo waits for the next turn of the event loop: the snapshot's other views are
        # drawn first, and the window never stalls for all of them at once
        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setSingleShot(True)
        self._snapshot_timer.setInterval(0)
        self._snapshot_timer.timeout.connect(self._changed)
        session.weightsUpdated.connect(lambda _m: self._weights_changed())
        session.drawingChanged.connect(lambda _img: self._changed())
        self._on_model(session.model)

    # -- what is asked -------------------------------------------------------------------------------------------
    @property
    def layer(self) -> int | None:
        data = self.layer_box.currentData()
        return None if data is None else int(data)

    def image(self) -> tuple[np.ndarray, str]:
        if self.session.drawing is not None:
            return np.asarray(self.session.drawing, np.float32), "your drawing"
        ds = self.session.dataset
        return to_float(ds.test_images[0]), f"test digit #0 (a {int(ds.test_labels[0])}; nothing drawn yet)"

    def _on_model(self, model) -> None:
        self.explainer.set_model(model)
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        if model is not None:
            for i in explainable_layers(model):
                lay = model.layers[i]
                self.layer_box.addItem(f"{i + 1}  {lay.short_name()}", i)
        self.layer_box.blockSignals(False)
        self.index = None
        self._layer_changed()

    def _layer_changed(self) -> None:
        model = self.explainer.source
        layer = self.layer
        conv = layer is not None and len(self._out_shape(layer)) == 3
        self.channel.blockSignals(True)
        self.channel.setRange(0, self._out_shape(layer)[-1] - 1 if conv else 0)
        self.channel.setValue(0)
        self.channel.blockSignals(False)
        self.channel.setVisible(conv)
        self.terms.setCurrentWidget(self.conv_terms if conv else self.dense_terms)
        self.index = None
        if model is None:
            self.status.setText("No model yet: train one or open a model file.")
        self._changed()

    def _channel_changed(self) -> None:
        if self.index is not None and len(self.index) == 3:
            self.index = (self.index[0], self.index[1], self.channel.value())
        self._changed()

    def _out_shape(self, layer: int | None) -> tuple[int, ...]:
        model = self.explainer.source
        if model is None or layer is None:
            return (1,)
        shape = model.input_shape
        for lay in model.layers[:layer + 1]:
            shape = lay.output_shape(shape)
        return tuple(shape)

    # -- computing and showing -----------------------------------------------------------------------------------
    def _weights_changed(self) -> None:
        if self.session.state == "idle":
            self._changed(weights=True)
            return
        self.explainer.weights_changed()
        self._dirty = True
        if self.isVisible() and not self._snapshot_timer.isActive():
            self._snapshot_timer.start()

    def _changed(self, weights: bool = False) -> None:
        if weights:
            self.explainer.weights_changed()
        self._dirty = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def refresh(self) -> None:
        """The layer's output for the image, the map, and the picked value's terms."""
        self._dirty = False
        model, layer = self.explainer.model, self.layer
        if model is None or layer is None:
            self._activations, self.explanation = None, None
            self.show_map(None)
            self.show_formula(None)
            return
        image, source = self.image()
        with single_threaded_blas():
            self._activations = model.activations(image[None])
        out = self._activations[layer][0]
        if out.ndim == 3:
            ch = self.channel.value()
            self.show_map(out[..., ch])
            if self.index is None:  # start on the strongest value of the map
                self.index = (*np.unravel_index(int(np.argmax(out[..., ch])), out.shape[:2]), ch)
            self.status.setText(f"Map {ch} of layer {layer + 1} ({out.shape[0]}×{out.shape[1]}) for {source}. "
                                f"Click a pixel to see how its value is computed.")
        else:
            self.show_map(heat_strip(out, DENSE_ROW), DENSE_ROW)
            if self.index is None:
                self.index = (int(np.argmax(out)),)
            self.status.setText(f"The {out.size} units of layer {layer + 1} for {source}, {DENSE_ROW} a row. "
                                f"Click a unit to see its largest contributions.")
        self.explain()

    def pick(self, cell: tuple[int, int]) -> None:
        """A click on the map: the value at (row, col) of the shown map (a unit's cell for a Dense layer)."""
        if self._activations is None or self.layer is None:
            return
        out = self._activations[self.layer][0]
        r, c = cell
        if out.ndim == 3:
            self.index = (r, c, self.channel.value())
        else:
            unit = r * self.map_width + c
            if unit >= out.size:
                return
            self.index = (unit,)
        self.explain()

    def explain(self) -> None:
        model, layer = self.explainer.model, self.layer
        if self._activations is None or self.index is None or model is None:
            return
        image, _ = self.image()
        with single_threaded_blas():
            self.explanation = explain_value(model, image, layer, self.index, activations=self._activations)
        if len(self.index) == 3:
            r, c, ch = self.index
            self.show_mark(r, c)
            what = f"map {ch}, row {r}, col {c}"
        else:
            unit = self.index[0]
            self.show_mark(*divmod(unit, self.map_width))
            what = f"unit {unit}"
        self._show_terms()
        self.show_formula(self.explanation, what)

    def _show_terms(self) -> None:
        e = self.explanation
        if e is None:
            return
        if len(e.index) == 3:
            self.conv_terms.show_terms(e, self.conv_terms.in_channel.value())
        else:
            self.dense_terms.show_terms(e, source_shape(self.explainer.model, e.layer))

    def shutdown(self) -> None:
        pass
