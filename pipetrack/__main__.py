"""``python -m pipetrack`` runs the same command as the ``pipetrack`` script."""

from pipetrack.cli import main

main()
