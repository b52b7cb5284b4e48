# grid_priming.py with x*'s cell means read from a second forward of the
# target on x* before the pixel noise (priming_input 'clean'), so they
# compare with the clean stimulus's.
_base_ = ['./grid_priming.py']
leaps = dict(inverter=dict(priming_input='clean'))
