"""Route planning, free of the database and of Flask: a day's problem in, a plan out.

- ``problem``: what is to be planned (shipments, vehicles, the distance and time matrices) and
  what a plan says (routes of timed stops, and what could not be served, with the reason).
- ``distances``: the one distance-matrix interface, with its providers.
- ``solver``: plans a problem with a state-of-the-art solver.
- ``feasibility``: checks any plan against its problem, independently of the solver.

The logistics domain builds a ``Problem`` from its transport jobs and vehicles, and stores
the ``Plan`` only once ``feasibility.violations`` has found nothing.
"""
