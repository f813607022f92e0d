"""Everything after (or around) an lm-eval run: reading results files, findings, the
leaderboard and HTML report, ``check`` gates, and ``postmech-eval run``. It reads results files
and the torch-free metric catalogue; it never loads a model."""
