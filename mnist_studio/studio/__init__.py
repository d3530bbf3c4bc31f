"""The studio's own models, without Qt: what the GUI shows and edits, kept where it is tested without a window.

- ``stack``        the editable, undoable layer stack the designer edits (commands, validation)
- ``events``       signals without Qt: the layer stack's change events
- ``weights``      weight histograms, norms, dead ReLU units and weights as pictures (the weights view)
- ``activations``  which layers are shown together and how activations are laid out as pictures (the Draw tab)
- ``smoothing``    TensorBoard's smoothing for the training curves, fed piece by piece
- ``scales``       colour limits and axis ranges that stay put while the numbers drift

It may import ``nn``, ``data``, ``training``, ``export`` and ``fileio``; never Qt, pyqtgraph, the GUI or the CLI,
and ``nn`` and ``training`` never import it (the import-linter contracts in pyproject.toml).
"""
