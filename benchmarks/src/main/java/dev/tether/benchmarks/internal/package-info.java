/**
 * The benchmark harness: broker, contender JVMs, workloads, statistics and reports. Not an API.
 */
@NullMarked
package dev.tether.benchmarks.internal;

import org.jspecify.annotations.NullMarked;
