"""Report generators built on the models (they are no part of the model packages).

* :mod:`xbar.reports.measured` - the device models against the measured data sets (fits,
  held-out checks, a markdown report with PNG figures, pass/fail against stated bounds); run by
  ``xbar validate measured`` and ``validation/measured/run.py``.
"""
