"""The studies built on the method: the reference evaluation, the target and saliency studies.

Each study runs the core (:mod:`cladec.explainers`, :mod:`cladec.metrics`)
over a protocol and writes a result CSV; the website's results pages and
the ``python -m cladec reproduce | saliency | targets`` commands read them.
:mod:`~cladec.studies.claims` checks what the prose claims against those
numbers; :mod:`~cladec.studies.shipped` builds and verifies the models
shipped with the package. The modules are imported on use: each needs
TensorFlow.
"""
