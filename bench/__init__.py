"""pipetrack's benchmarks (issue 6): ``python -m bench [--quick] [--only NAME]``.

See docs/benchmarks.md for what each one measures, its baseline and its goal.
"""
