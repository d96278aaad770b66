"""pipetrack."""
