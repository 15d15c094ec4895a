"""The model zoo: trained generators shipped in ``data/checkpoints/``, how they are exported
and scored, and the result tables built from their manifests.

    from ssnlib import zoo
    zoo.names()                          # the shipped models
    G = zoo.load("faces32-ssn-ld100")    # float32 generator, eval mode, CPU
    G = zoo.load_any("runs/faces64")     # or a run folder, a checkpoint, an exported folder

* :mod:`~ssnlib.zoo.pretrained`: names, manifests, loading with a SHA-256 check;
* :mod:`~ssnlib.zoo.load`: one loader for every way of naming a generator;
* :mod:`~ssnlib.zoo.export`: a training run's EMA generator -> a zoo folder, scores recorded;
* :mod:`~ssnlib.zoo.results`: Tables 1 and 2, the Pareto plot and the sample sheet;
* :mod:`~ssnlib.zoo.runs`: the runs trained in installments (``data/runs/``), their ledgers
  and newest generators.
"""

from ssnlib.zoo.export import export, record_metrics, run_wall_time
from ssnlib.zoo.load import load_any, load_eval_generator
from ssnlib.zoo.pretrained import (
    ZOO_DIR,
    load,
    manifest,
    model_dir,
    names,
    reference_images,
    zoo_dir,
)
from ssnlib.zoo.results import write_results

__all__ = ["ZOO_DIR", "export", "load", "load_any", "load_eval_generator", "manifest",
           "model_dir", "names", "record_metrics", "reference_images", "run_wall_time",
           "write_results", "zoo_dir"]
