"""The conformance runner behind tools/conform, one module per part:

  layout    paths, protocol version, UsageError
  cases     cases and fixtures; clause of a case; --clause, --profile
  compare   protocol section 4 with the normalisation rules
  expect    --expect FILE: expected and stale differences
  workers   implementations and their adapters in serve mode
  evaluate  baselines, cell statuses, the per-clause summary
  report    the matrix on stdout, report.md, report.json, observations
  record    --record: fixtures with provenance
  matrix    --matrix: one venv per release, docs/versions.md
  cli       the command line
"""
