"""One plain function per command, over a `Session`: what the CLI, the tests and the benchmarks call."""

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
