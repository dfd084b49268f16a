"""Speed of the VT ablation twin on the demo heart (`post-mi-vt`, 1 mm, ~105 k nodes):

1. 1 s of electrical activity (one paced beat and its recovery, numba backend, one core)
   on the left ventricle: target < 20 s;
2. the full induction protocol (8 drive beats at 600 ms, S2 and S3, 2 s to call a VT
   sustained) from each of the 3 personalised pacing sites, one site per process as the
   runner's parallel workers do it (`TWIN.parts`: `auto_isthmus` is one part): per-part
   wall time, and the scenario's time on 2 workers (target < 3 min) with its ratio to the
   parts run one after another (the reference: one worker), for `none` and `auto_isthmus`.

`PYTHONPATH=. NUMBA_NUM_THREADS=1 python tests/bench/bench_vt_ablation.py [grid_mm] [ablations]`
(ablations comma-separated, default `none,auto_isthmus`)
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def _demo():
    from meditwin_twins.vt_ablation import personalize, prepare

    from meditwin_desktop.core.case import Case
    from meditwin_desktop.demo import heart_anatomy as heart

    ct, labels = heart.build(channel=True)
    case = Case(name="heart", image=ct, labels=labels)
    case.studies[0].modality = "CT"
    return prepare(case), {k: v.value for k, v in personalize(case).items()}


def _site(args):
    import resource

    from meditwin_twins.vt_ablation import model

    part, inputs = args
    start = time.perf_counter()
    result = model.simulate(part, inputs, lambda *a: None, lambda: False)
    site = part.get("_site", "all")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    estimate_mb = model.memory_estimate(part, inputs) / 2**20
    return site, time.perf_counter() - start, result, peak_mb, estimate_mb


def one_second(inputs, baseline, grid_mm: float) -> None:
    import numpy as np
    from meditwin_twins.vt_ablation import TWIN, anatomy, model, monodomain, protocol

    params = TWIN.parameters_for(baseline, {"grid_mm": grid_mm})
    codes, provenance = model.tissue_codes(params, inputs)
    fibres = anatomy.fibre_field(inputs, 60.0, -60.0)
    tissue = model.build_tissue(
        params, inputs, codes, provenance, np.zeros(codes.shape, bool), fibres
    )
    nodes = protocol.stimulated_nodes(tissue.model, model.site_point(params, 1))
    state = monodomain.resting_state(tissue.model)
    monodomain.run(tissue.model, state, 20.0, [monodomain.Stimulus(nodes, 0.0)])  # compile
    state = monodomain.resting_state(tissue.model)
    start = time.perf_counter()
    monodomain.run(
        tissue.model, state, 1000.0, [monodomain.Stimulus(nodes, 0.0)], stop_when_quiet=False
    )
    seconds = time.perf_counter() - start
    print(
        f"1 s of activity, {tissue.model.n} nodes at {grid_mm:g} mm, dt "
        f"{tissue.model.dt_ms:.3f} ms: {seconds:.1f} s (target < 20 s)",
        flush=True,
    )


def protocol_runs(inputs, baseline, grid_mm: float, ablations: list[str]) -> None:
    from meditwin_twins.vt_ablation import TWIN, model

    for ablation in ablations:
        params = TWIN.parameters_for(baseline, {"grid_mm": grid_mm, "ablation": ablation})
        start = time.perf_counter()
        with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
            done = list(pool.map(_site, [(part, inputs) for part in TWIN.parts(params)]))
        wall = time.perf_counter() - start
        results = [r for _, _, r, _, _ in done]
        combined = model.combine(params, inputs, results) if len(results) > 1 else results[0]
        for site, seconds, result, peak_mb, estimate_mb in done:
            rows = result.tables["protocol"].rows
            print(
                f"  {ablation} site {site}: {seconds:.0f} s, {len(rows)} extrastimuli tried, "
                f"VT {result.outcomes['inducible_vt_count']:.0f}, worker peak RSS "
                f"{peak_mb:.0f} MB (memory_estimate {estimate_mb:.0f} MB)",
                flush=True,
            )
        serial = sum(seconds for _, seconds, _, _, _ in done)  # the parts one after another
        print(
            f"{ablation}: {len(done)} part(s) on 2 workers {wall:.0f} s (target < 180 s), "
            f"{serial / wall:.2f}x the parts run one after another ({serial:.0f} s); "
            f"inducible VTs {combined.outcomes['inducible_vt_count']:.0f}, CL "
            f"{combined.outcomes['vt_cycle_length_ms']}",
            flush=True,
        )


def main() -> None:
    grid_mm = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    ablations = sys.argv[2].split(",") if len(sys.argv) > 2 else ["none", "auto_isthmus"]
    inputs, baseline = _demo()
    one_second(inputs, baseline, grid_mm)
    protocol_runs(inputs, baseline, grid_mm, ablations)


if __name__ == "__main__":
    main()
