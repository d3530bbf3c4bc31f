"""What the training tab shows of a model the session put in view (the training panel's ``_on_model``, apart):
the run's own model (back at its latest weights), an opened model with its run's curves and settings, or a
checkpoint of a run (time travel: its strip reading cached, the curves left as they are)."""

from __future__ import annotations

from mnist_studio.training import RunHistory, TrainConfig


def show(panel, model) -> None:
    """``model`` (not None) is now the session's: the weights view and the test strip follow it."""
    if model is panel._gui_model:
        live = panel.state != "idle"
        panel.weights.set_model(model, f"{panel._job.name}{' · training' if live else ''}", compute_stats=False)
        stats, strip = panel._latest_view  # the run's last reading (the worker reads the strip with its weights)
        if stats is not None:
            panel.weights.set_stats(stats)
        panel.strip.reset()
        panel.strip.show_probabilities(strip)
        return
    session = panel.session
    moment = getattr(session, "moment", None)
    panel.strip.reset()
    cached = getattr(getattr(moment, "result", None), "strip", None)
    if cached is not None:  # a checkpoint whose reading is cached (time travel)
        panel.strip.show_probabilities(cached)
    else:
        panel.strip.predict_with(model)
    name = session.model_name()
    label = name if moment is not None else f"loaded {name}" if name else "model"
    # (at a checkpoint no dead-unit probe: a forward pass of the probe images on every scrubber move is too slow)
    panel.weights.set_model(model, label, compute_stats=True, count_dead=moment is None)
    if panel.state == "idle" and moment is None:  # (at a checkpoint the plots keep showing its run)
        show_model_run(panel, session.model_info)


def show_model_run(panel, info) -> None:
    """An opened model: its own run in the plots (its history is in the file) and its own settings in the
    controls (not the preset's suggestions); a model that brought no history clears the plots."""
    try:
        history = RunHistory.from_dict(info.history)
    except ValueError as e:  # a damaged history in the file: the model itself is fine
        history = RunHistory()
        panel.session.status.emit(f"The model's training history was not shown: {e}")
    panel.plots.show_history(history)
    if info.training:
        try:
            panel.controls.set_config(TrainConfig.from_dict(info.training))
        except (ValueError, TypeError) as e:
            panel.session.status.emit(f"The model's training settings were not shown: {e}")
