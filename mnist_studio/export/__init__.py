"""Take a trained model elsewhere: an ONNX graph, or a standalone PyTorch script. Pure NumPy (+ onnx when asked).

Both exporters translate our NHWC layout (Conv2D kernels as kh×kw×in×out, Flatten in height-width-channel order)
to the NCHW layout the other runtimes use, once, at export time; the exported models compute the same
probabilities as :meth:`Model.predict_proba` (tests hold them to 1e-5).
"""

from mnist_studio.export.layout import ExportError

__all__ = ["ExportError"]
