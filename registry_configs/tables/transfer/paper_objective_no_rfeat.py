# The paper's objective without R_feat (ablations/priming_coherence.py:
# L_CE + L_prim + r R_coh) in the transfer grid: against
# paper_objective.py it measures what R_feat adds. No verifier.
_base_ = ['../../ablations/priming_coherence.py', './scorers.py']
verifier = None
judge = None
target = dict(from_config=None, checkpoint=None)  # set by the grid rows
leaps = dict(inverter=dict(verifier_checkpoint=None, judge_checkpoint=None))
