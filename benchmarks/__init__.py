"""Speed, memory and quality benchmarks; each module runs with one command."""
