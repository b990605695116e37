/**
 * Side-by-side benchmarks of Tether against peer clients: the entry point {@link dev.tether.benchmarks.BenchMain}.
 */
@NullMarked
package dev.tether.benchmarks;

import org.jspecify.annotations.NullMarked;
