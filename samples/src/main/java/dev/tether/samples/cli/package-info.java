/**
 * The {@code tether} command line: demo, probes, watch and serve. Run it with {@code ./tether}.
 */
@NullMarked
package dev.tether.samples.cli;

import org.jspecify.annotations.NullMarked;
