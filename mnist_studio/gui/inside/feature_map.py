"""The feature-space map's controller (issue 13, item 4): which map to compute, when, and the drawing's marker.

The map is computed in the background (:class:`~mnist_studio.gui.background.BackgroundRunner`) on a copy of the
session's model: features and predictions of the first 2,000 or 5,000 test digits, their PCA map, and t-SNE when
asked for (its layout is shown as it converges). Maps are cached by a fingerprint of the weights, so going back to
weights seen before (a checkpoint, a reopened model) costs nothing.

When: whenever the dock is visible and its map is out of date — a model opened, a run ended, the dataset changed, a
checkpoint chosen (any ``modelChanged`` or ``weightsUpdated`` while no training runs). During training the map is
only marked out of date (recomputing it at every weight snapshot would compete with the trainer for the CPU);
Refresh computes it for the current weights at once.

The drawing's marker follows ``session.drawingChanged`` live: one forward pass of the drawing through the model copy
the map was made with (a millisecond or two for lenet), placed on the same map, so marker and map always agree.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.background import BackgroundRunner
from mnist_studio.gui.inside.feature_map_view import FeatureMapView
from mnist_studio.nn.blas import single_threaded_blas
from mnist_studio.training.featuremap import FeatureMap, build_map, features, weights_fingerprint, with_tsne
from mnist_studio.training.tsne import MAX_POINTS

CACHE_SIZE = 8  # maps kept (each a few MB of features)
KIND = "map"


class FeatureMapPanel(FeatureMapView):
    def __init__(self, session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = BackgroundRunner("featureMapThread", self)
        self.fmap: FeatureMap | None = None  # what is shown
        self._model = None  # the copy the shown map was made with (the marker's model); GUI thread only
        self._cache: OrderedDict[tuple, FeatureMap] = OrderedDict()  # (fingerprint, size, method) → map
        self._dirty = True  # the map does not show the current weights/settings
        self._chosen: int | None = None
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(lambda _k, msg: self.status.setText(f"Could not make the map: {msg}"))
        self.refresh_button.clicked.connect(lambda: self.compute(force=True))
        self.method.currentIndexChanged.connect(lambda _i: self._settings_changed())
        self.size_box.currentIndexChanged.connect(lambda _i: self._settings_changed())
        self.pointClicked.connect(self.choose)
        self.inspect_button.clicked.connect(self._inspect)
        session.modelChanged.connect(self._on_model)
        session.weightsUpdated.connect(self._on_weights)
        session.datasetChanged.connect(lambda _ds: self._mark_dirty("the dataset changed"))
        session.stateChanged.connect(lambda _s: self._maybe_compute())
        session.drawingChanged.connect(self.update_marker)
        self._on_model(session.model)

    # -- when to compute -------------------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self.session.state != "idle"

    def _on_model(self, model) -> None:
        if model is None:
            self.runner.cancel()
            self.fmap, self._model, self._dirty = None, None, True
            self.show_map(None)
            self.status.setText("No model yet: train one or open a model file, and its map appears here.")
            return
        self._mark_dirty("another model is in use")

    def _on_weights(self, _model) -> None:
        self._mark_dirty("the weights changed since (training)" if self.training else "the weights changed")

    def _settings_changed(self) -> None:
        self._dirty = True
        self._maybe_compute(ignore_training=True)

    def _mark_dirty(self, why: str) -> None:
        self._dirty = True
        if self.fmap is not None and not self.runner.busy(KIND):
            self.status.setText(f"{self._describe(self.fmap)} — out of date: {why}. Refresh to redo it.")
        self._maybe_compute()

    def _maybe_compute(self, ignore_training: bool = False) -> None:
        if self._dirty and self.isVisible() and self.session.model is not None and (ignore_training or not self.training):
            self.compute()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._maybe_compute()

    # -- computing -------------------------------------------------------------------------------------------------
    def compute(self, force: bool = False) -> None:
        """Start (or restart) the map for the session's current model and the chosen method and size."""
        if self.session.model is None:
            return
        model = self.session.model.copy()
        ds = self.session.dataset
        size = int(self.size_box.currentData())
        method = self.method.currentText()
        images, labels = ds.test_images[:size], ds.test_labels[:size]
        cache = dict(self._cache)  # a snapshot: the worker reads it, only the GUI thread writes the cache
        n = len(images)

        def work(stop, report):
            fingerprint = weights_fingerprint(model)
            found = cache.get((fingerprint, n if method == "PCA" else min(n, MAX_POINTS), method))
            if found is not None:
                return model, found
            base = cache.get((fingerprint, n, "PCA"))
            if base is None:
                base = build_map(model, images, labels, stop=stop,
                                 progress=lambda done, total: report(("features", done, total)))
            if method == "PCA":
                return model, base
            report(("pca", base))
            return model, with_tsne(base, stop=stop,
                                    progress=lambda done, total, layout: report(("tsne", done, total, layout)))

        self._dirty = False
        self.status.setText(f"Computing the {method} map of {n:,} test digits…")
        self.runner.submit(KIND, work)

    def _on_progress(self, _kind: str, value) -> None:
        what = value[0]
        if what == "features":
            self.status.setText(f"Features of the test digits: {value[1]:,} of {value[2]:,}…")
        elif what == "pca":
            self._remember(value[1])
            self._show(value[1], keep_view=False)
            self.status.setText(f"t-SNE of the first {min(MAX_POINTS, len(value[1].indices)):,} digits: starting…")
        elif what == "tsne" and self.fmap is not None:
            _, done, total, layout = value
            n = len(layout)
            partial = FeatureMap("t-SNE", self.fmap.indices[:n], self.fmap.labels[:n], self.fmap.predictions[:n],
                                 self.fmap.confidence[:n], self.fmap.feats[:n], layout, self.fmap.projection,
                                 self.fmap.layer, "")
            self._show(partial, keep_view=False)
            self.status.setText(f"t-SNE of {n:,} digits: iteration {done} of {total}…")

    def _on_finished(self, _kind: str, result) -> None:
        model, fmap = result
        self._model = model
        self._remember(fmap)
        self._show(fmap)
        self.status.setText(self._describe(fmap))
        self.update_marker(self.session.drawing)

    def _remember(self, fmap: FeatureMap) -> None:
        key = (fmap.fingerprint, len(fmap.indices), fmap.method)
        self._cache[key] = fmap
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _describe(self, fmap: FeatureMap) -> str:
        wrong = int(fmap.wrong.sum())
        name = (self.session.model.spec.get("name") if self.session.model is not None else "") or "model"
        return (f"{name}: {len(fmap.indices):,} test digits by the {fmap.feats.shape[1]} features entering layer "
                f"{fmap.layer + 1}, {fmap.method}; {wrong:,} misread ({wrong / max(1, len(fmap.indices)):.1%}).")

    def _show(self, fmap: FeatureMap, keep_view: bool = False) -> None:
        self.fmap = fmap
        self.show_map(fmap, keep_view=keep_view)
        self.show_chosen(None if self._chosen is None or self._chosen >= len(fmap.indices)
                         else fmap.coords[self._chosen])

    # -- the drawing and the clicked digit -------------------------------------------------------------------------
    def marker_position(self, image) -> np.ndarray | None:
        """Where ``image`` (28×28) lands on the shown map, by the weights the map was made with."""
        if image is None or self.fmap is None or self._model is None:
            return None
        with single_threaded_blas():
            feat, _ = features(self._model, np.asarray(image, np.float32)[None])
        return self.fmap.place(feat)[0]

    def update_marker(self, image) -> None:
        self.show_marker(self.marker_position(image))

    def choose(self, i: int) -> None:
        if self.fmap is None or not 0 <= i < len(self.fmap.indices):
            return
        self._chosen = i
        f = self.fmap
        test_index = int(f.indices[i])
        img = self.session.dataset.test_images[test_index]
        self.picture.show_gray(to_float(img))
        label, pred = int(f.labels[i]), int(f.predictions[i])
        verdict = (f"read as {pred} ({f.confidence[i]:.0%})" if pred == label
                   else f"<b style='color:#d00000'>misread as {pred}</b> ({f.confidence[i]:.0%})")
        self.picked.setText(f"Test digit #{test_index:,}: a {label}, {verdict}")
        self.inspect_button.setEnabled(True)
        self.show_chosen(f.coords[i])

    def _inspect(self) -> None:
        if self.fmap is None or self._chosen is None:
            return
        test_index = int(self.fmap.indices[self._chosen])
        img = to_float(self.session.dataset.test_images[test_index])
        self.session.inspect(img, f"test digit #{test_index:,} (a {int(self.fmap.labels[self._chosen])}), "
                                  f"from the feature map")

    def shutdown(self) -> None:
        self.runner.shutdown()
