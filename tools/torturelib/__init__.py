"""tools/torture: SIGKILL the Checkpointer's trainer at random moments and
check that no checkpoint is ever lost (issue 11). See tools/torture --help."""
